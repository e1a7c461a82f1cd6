/**
 * The typed client (src/client/dalga-client.ts) declares the API's JSON shapes by hand, so that it
 * imports nothing. This test keeps those interfaces in line with openapi.json: for each schema, the
 * interface has the same property names, a property is optional exactly when the schema does not
 * require it, it admits null exactly when the schema's type does, and a string-literal union lists
 * the schema's enum. It reads the client syntactically with the TypeScript compiler API.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import ts from 'typescript';

const ROOT = new URL('../../', import.meta.url);
const CLIENT_FILE = 'src/client/dalga-client.ts';

/** openapi.json schema → the client's interface for it. */
const PAIRS: Record<string, string> = {
  Job: 'DalgaJob',
  Status: 'DalgaStatus',
  JobPage: 'JobPage',
  Run: 'DalgaRun',
  RunPage: 'RunPage',
  Error: 'DalgaErrorBody',
};

interface SchemaProperty {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
}

interface ObjectSchema {
  properties: Record<string, SchemaProperty>;
  required?: string[];
}

interface OpenApi {
  components: { schemas: Record<string, ObjectSchema> };
}

/** What the checks need of one interface property. */
interface DeclaredProperty {
  optional: boolean;
  nullable: boolean;
  /** The string literals of a union made only of string literals (and null); null otherwise. */
  stringLiterals: string[] | null;
}

function declaredProperties(source: ts.SourceFile, name: string): Map<string, DeclaredProperty> | null {
  let found: ts.InterfaceDeclaration | undefined;
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name) found = node;
  });
  if (!found) return null;
  const properties = new Map<string, DeclaredProperty>();
  for (const member of found.members) {
    if (!ts.isPropertySignature(member) || !member.type) continue;
    const members = ts.isUnionTypeNode(member.type) ? [...member.type.types] : [member.type];
    const isNull = (node: ts.TypeNode) => ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword;
    const rest = members.filter((node) => !isNull(node));
    const literals = rest.map((node) => (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal) ? node.literal.text : null));
    properties.set(member.name.getText(source), {
      optional: member.questionToken !== undefined,
      nullable: rest.length < members.length,
      stringLiterals: literals.every((literal) => literal !== null) ? (literals as string[]) : null,
    });
  }
  return properties;
}

/** Every difference between a schema and an interface, one line each ("" when they agree). */
function differences(schemaName: string, schema: ObjectSchema, source: ts.SourceFile, interfaceName: string): string[] {
  const declared = declaredProperties(source, interfaceName);
  if (!declared) return [`${interfaceName} (for schema ${schemaName}) is not declared in ${source.fileName}`];
  const where = `${interfaceName} vs openapi.json ${schemaName}`;
  const problems: string[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties)) {
    const ours = declared.get(name);
    if (!ours) {
      problems.push(`${where}: ${name} is missing`);
      continue;
    }
    if (ours.optional === required.has(name)) {
      problems.push(
        `${where}: ${name} is ${ours.optional ? 'optional' : 'required'} but the schema ${required.has(name) ? 'requires it' : 'does not require it'}`,
      );
    }
    const schemaNullable = Array.isArray(property.type) && property.type.includes('null');
    if (ours.nullable !== schemaNullable) {
      problems.push(
        `${where}: ${name} ${ours.nullable ? 'admits' : 'does not admit'} null but the schema's type ${schemaNullable ? 'does' : 'does not'}`,
      );
    }
    if (ours.stringLiterals && property.enum) {
      const schemaValues = property.enum
        .filter((value) => value !== null)
        .map(String)
        .sort();
      const ourValues = [...ours.stringLiterals].sort();
      if (schemaValues.join('|') !== ourValues.join('|')) {
        problems.push(`${where}: ${name} is ${ourValues.map((v) => `'${v}'`).join(' | ')} but the schema's enum is ${schemaValues.join(', ')}`);
      }
    }
  }
  for (const name of declared.keys()) {
    if (!(name in schema.properties)) problems.push(`${where}: ${name} is not in the schema`);
  }
  return problems;
}

function parse(fileName: string, text: string): ts.SourceFile {
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

const openapi = JSON.parse(readFileSync(new URL('openapi.json', ROOT), 'utf8')) as OpenApi;
const client = parse(CLIENT_FILE, readFileSync(new URL(CLIENT_FILE, ROOT), 'utf8'));

describe('client types match openapi.json', () => {
  for (const [schemaName, interfaceName] of Object.entries(PAIRS)) {
    test(`${interfaceName} = ${schemaName}`, () => {
      const schema = openapi.components.schemas[schemaName];
      assert.ok(schema, `openapi.json has no schema ${schemaName}`);
      assert.deepEqual(differences(schemaName, schema, client, interfaceName), []);
    });
  }

  test('the check names each kind of drift', () => {
    const schema: ObjectSchema = {
      properties: { a: { type: 'string' }, b: { type: ['string', 'null'] }, c: { type: 'string', enum: ['x', 'y'] }, d: { type: 'integer' } },
      required: ['a', 'b', 'c'],
    };
    const drifted = parse('drifted.ts', "interface T { a?: string; b: string; c: 'x'; e: number; }");
    assert.deepEqual(differences('S', schema, drifted, 'T'), [
      'T vs openapi.json S: a is optional but the schema requires it',
      "T vs openapi.json S: b does not admit null but the schema's type does",
      "T vs openapi.json S: c is 'x' but the schema's enum is x, y",
      'T vs openapi.json S: d is missing',
      'T vs openapi.json S: e is not in the schema',
    ]);
    assert.deepEqual(differences('S', schema, drifted, 'Missing'), ['Missing (for schema S) is not declared in drifted.ts']);
  });
});
