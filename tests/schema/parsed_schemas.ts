/**
 * The shipped YAML schemas and the modules holding them parsed ahead of time
 * (`compileParsedSchema` compiles those, so loading the library runs no YAML
 * parser). The YAML is the source of truth: after editing it, regenerate with
 * `deno run --allow-write tests/schema/parsed_schemas.ts && deno fmt src/`;
 * `tests/schema/shipped_test.ts` fails while they differ.
 *
 * @module
 */
import { parseYaml } from "../../src/schema/yaml_source.ts";
import {
  METAINFO_SCHEMA_YAML,
  METAINFO_V2_SCHEMA_YAML,
} from "../../src/metainfo/metainfo_schema.ts";
import {
  METAINFO_SCHEMA_PARSED,
  METAINFO_V2_SCHEMA_PARSED,
} from "../../src/metainfo/metainfo_schema_parsed.ts";
import { TRACKER_RESPONSE_SCHEMA_YAML } from "../../src/tracker/response_schema.ts";
import { TRACKER_RESPONSE_SCHEMA_PARSED } from "../../src/tracker/response_schema_parsed.ts";

/** One shipped schema: its YAML, the parsed module's value, and where that value lives. */
export interface ParsedSchema {
  /** The name of the YAML constant (the source of truth). */
  readonly yamlName: string;
  /** The YAML text. */
  readonly yaml: string;
  /** The name of the generated constant. */
  readonly parsedName: string;
  /** The generated constant's value. */
  readonly parsed: unknown;
  /** The generated module, from the repository's root. */
  readonly module: string;
  /** The module holding the YAML, from the repository's root. */
  readonly source: string;
}

/** Every shipped schema kept parsed ahead of time. */
export const PARSED_SCHEMAS: readonly ParsedSchema[] = [
  {
    yamlName: "METAINFO_SCHEMA_YAML",
    yaml: METAINFO_SCHEMA_YAML,
    parsedName: "METAINFO_SCHEMA_PARSED",
    parsed: METAINFO_SCHEMA_PARSED,
    module: "src/metainfo/metainfo_schema_parsed.ts",
    source: "src/metainfo/metainfo_schema.ts",
  },
  {
    yamlName: "METAINFO_V2_SCHEMA_YAML",
    yaml: METAINFO_V2_SCHEMA_YAML,
    parsedName: "METAINFO_V2_SCHEMA_PARSED",
    parsed: METAINFO_V2_SCHEMA_PARSED,
    module: "src/metainfo/metainfo_schema_parsed.ts",
    source: "src/metainfo/metainfo_schema.ts",
  },
  {
    yamlName: "TRACKER_RESPONSE_SCHEMA_YAML",
    yaml: TRACKER_RESPONSE_SCHEMA_YAML,
    parsedName: "TRACKER_RESPONSE_SCHEMA_PARSED",
    parsed: TRACKER_RESPONSE_SCHEMA_PARSED,
    module: "src/tracker/response_schema_parsed.ts",
    source: "src/tracker/response_schema.ts",
  },
];

/** What js-yaml gives for `yaml` today: the value a generated constant must equal. */
export function parseShipped(yaml: string): unknown {
  return parseYaml(yaml).value;
}

/** The text of each generated module (unformatted: run `deno fmt` after writing). */
export function generatedModules(): Map<string, string> {
  const modules = new Map<string, string>();
  for (const schema of PARSED_SCHEMAS) {
    const text = modules.get(schema.module) ??
      `// Generated from the YAML in ${schema.source} by tests/schema/parsed_schemas.ts:\n` +
        `// edit the YAML, then regenerate; tests/schema/shipped_test.ts checks they agree.\n` +
        `/**\n * The shipped schemas of \`${schema.source}\` parsed ahead of time, so loading the\n` +
        ` * library runs no YAML parser (\`compileParsedSchema\` compiles them).\n *\n` +
        ` * @module\n */\n`;
    modules.set(
      schema.module,
      `${text}\n/** \`${schema.yamlName}\` as js-yaml parses it. */\n` +
        `export const ${schema.parsedName} = ${JSON.stringify(parseShipped(schema.yaml))};\n`,
    );
  }
  return modules;
}

if (import.meta.main) {
  const root = new URL("../../", import.meta.url);
  for (const [module, text] of generatedModules()) {
    await Deno.writeTextFile(new URL(module, root), text);
  }
}
