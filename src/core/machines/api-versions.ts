/**
 * api-versions IMDS accepts for its metadata categories, newest first (Microsoft's published list).
 * Scheduled events keep their own list (core/events).
 */
export const IMDS_API_VERSIONS = [
  '2025-04-07',
  '2024-07-17',
  '2024-03-15',
  '2023-11-15',
  '2023-07-01',
  '2021-12-13',
  '2021-11-15',
  '2021-11-01',
  '2021-10-01',
  '2021-08-01',
  '2021-05-01',
  '2021-03-01',
  '2021-02-01',
  '2021-01-01',
  '2020-12-01',
  '2020-10-01',
  '2020-09-01',
  '2020-07-15',
  '2020-06-01',
  '2019-11-01',
  '2019-08-15',
  '2019-08-01',
  '2019-06-04',
  '2019-06-01',
  '2019-04-30',
  '2019-03-11',
  '2019-02-01',
  '2018-10-01',
  '2018-04-02',
  '2018-02-01',
  '2017-12-01',
  '2017-10-01',
  '2017-08-01',
  '2017-04-02',
  '2017-03-01',
] as const;

export type ImdsApiVersion = (typeof IMDS_API_VERSIONS)[number];

const supported: ReadonlySet<string> = new Set(IMDS_API_VERSIONS);

/** The three newest versions, newest first, as quoted in Azure's api-version error. */
export const NEWEST_IMDS_VERSIONS: readonly string[] = IMDS_API_VERSIONS.slice(0, 3);

/** Ascending list served by `/metadata/versions` (Azure's example lists oldest first). */
export const IMDS_VERSIONS_ASCENDING: readonly string[] = [...IMDS_API_VERSIONS].reverse();

/** True when IMDS accepts `version` for its metadata categories. */
export function isImdsApiVersion(version: string): version is ImdsApiVersion {
  return supported.has(version);
}
