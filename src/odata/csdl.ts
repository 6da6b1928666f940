/**
 * $metadata: the entity model (model.ts) as CSDL XML, OData 4.0, which is what Power BI's and
 * Excel's "OData feed" connectors and client generators read. Built once per process: the model
 * is fixed at build time.
 */
import type { EntitySet } from './model.js';
import { EDM_TYPE, NAMESPACE } from './model.js';

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function entityType(set: EntitySet, typeOf: (name: string) => string): string {
  const lines = [`      <EntityType Name="${set.type}">`, '        <Key>'];
  for (const key of set.keys) lines.push(`          <PropertyRef Name="${key}"/>`);
  lines.push('        </Key>');
  for (const p of set.properties) {
    const facets = p.kind === 'decimal' ? ' Scale="variable"' : p.kind === 'id' ? ' MaxLength="36"' : '';
    const description =
      p.description ??
      (p.notQueryable ? `Computed; cannot be used in $filter or $orderby (${p.notQueryable}).` : undefined);
    const open = `        <Property Name="${p.name}" Type="${EDM_TYPE[p.kind]}" Nullable="${p.nullable}"${facets}`;
    if (description) {
      lines.push(
        `${open}>`,
        `          <Annotation Term="Core.Description" String="${escapeXml(description)}"/>`,
        '        </Property>',
      );
    } else {
      lines.push(`${open}/>`);
    }
  }
  for (const n of set.navigation) {
    const target = `${NAMESPACE}.${typeOf(n.target)}`;
    lines.push(
      n.many
        ? `        <NavigationProperty Name="${n.name}" Type="Collection(${target})"/>`
        : `        <NavigationProperty Name="${n.name}" Type="${target}" Nullable="false"/>`,
    );
  }
  lines.push('      </EntityType>');
  return lines.join('\n');
}

export function csdlDocument(sets: readonly EntitySet[]): string {
  const typeOf = (name: string) => sets.find((s) => s.name === name)!.type;
  const container = sets.map((set) => {
    const bindings = set.navigation.map(
      (n) => `          <NavigationPropertyBinding Path="${n.name}" Target="${n.target}"/>`,
    );
    const description = `          <Annotation Term="Core.Description" String="${escapeXml(set.description)}"/>`;
    return [
      `        <EntitySet Name="${set.name}" EntityType="${NAMESPACE}.${set.type}">`,
      ...bindings,
      description,
      '        </EntitySet>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
    '  <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">',
    '    <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/>',
    '  </edmx:Reference>',
    '  <edmx:DataServices>',
    `    <Schema Namespace="${NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
    ...sets.map((set) => entityType(set, typeOf)),
    '      <EntityContainer Name="Container">',
    ...container,
    '      </EntityContainer>',
    '    </Schema>',
    '  </edmx:DataServices>',
    '</edmx:Edmx>',
    '',
  ].join('\n');
}
