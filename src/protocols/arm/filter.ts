/**
 * ARM's OData `$filter` for `GET /subscriptions/{s}/resources` (Resources_List): clauses joined by
 * `and`, each `resourceGroup eq '…'`, `resourceType eq '…'`, `name eq '…'`, `tagName eq '…'`,
 * `tagValue eq '…'` (names any case; values compared case-insensitively, as ARM does).
 */
export interface ResourceFilter {
  resourceGroup?: string;
  resourceType?: string;
  name?: string;
  tagName?: string;
  tagValue?: string;
}

const CLAUSE = /^\s*(resourceGroup|resourceType|name|tagName|tagValue)\s+eq\s+'((?:[^']|'')*)'\s*$/i;

/** Parses a `$filter`; undefined when it is not in the supported grammar. */
export function parseResourceFilter(filter: string): ResourceFilter | undefined {
  const out: ResourceFilter = {};
  for (const clause of filter.split(/\s+and\s+/i)) {
    const m = CLAUSE.exec(clause);
    if (!m) return undefined;
    const key = (m[1] as string).toLowerCase();
    const value = (m[2] as string).replaceAll("''", "'");
    const field = (
      {
        resourcegroup: 'resourceGroup',
        resourcetype: 'resourceType',
        name: 'name',
        tagname: 'tagName',
        tagvalue: 'tagValue',
      } as const
    )[key as 'name'];
    out[field] = value;
  }
  return out;
}

/**
 * `$filter` of role assignment lists (RoleAssignments_ListForScope): `atScope()`,
 * `principalId eq '…'`, `assignedTo('…')`, joined by `and`.
 */
export interface AssignmentFilter {
  atScope?: boolean;
  principalId?: string;
}

export function parseAssignmentFilter(filter: string): AssignmentFilter | undefined {
  const out: AssignmentFilter = {};
  for (const clause of filter.split(/\s+and\s+/i)) {
    const c = clause.trim();
    const principal = /^principalId\s+eq\s+'([^']*)'$/i.exec(c) ?? /^assignedTo\('([^']*)'\)$/i.exec(c);
    if (/^atScope\(\)$/i.test(c)) out.atScope = true;
    else if (principal) out.principalId = (principal[1] as string).toLowerCase();
    else return undefined;
  }
  return out;
}

/** `$filter` of role definition lists: `roleName eq '…'` or `type eq 'BuiltInRole'|'CustomRole'`. */
export function parseRoleDefinitionFilter(filter: string): { roleName?: string; type?: string } | undefined {
  let m = /^\s*roleName\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
  if (m) return { roleName: (m[1] as string).replaceAll("''", "'") };
  m = /^\s*type\s+eq\s+'([^']*)'\s*$/i.exec(filter);
  if (m) return { type: m[1] as string };
  return undefined;
}
