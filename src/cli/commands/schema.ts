/**
 * `idflow schema`: JSON Schema of the definition language, for editors. Definition files name
 * it in a `# yaml-language-server: $schema=…` comment; the repository keeps a generated copy in
 * idflow.schema.json.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { definitionJsonSchema } from '../../dsl/json-schema-export';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the definition language (for editors)')
    .option('-o, --out <file>', 'write it to a file')
    .action(async (options: { out?: string }) => {
      const json = JSON.stringify(definitionJsonSchema(), null, 2) + '\n';
      if (options.out) await writeFile(options.out, json);
      else process.stdout.write(json);
    });
}
