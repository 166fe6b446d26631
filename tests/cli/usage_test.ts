import assert from "node:assert/strict";
import { runCli, STACK_LINE } from "./helpers.ts";

const COMMANDS = ["download", "seed", "create", "info", "verify", "tracker", "version"];

/** Lines of a help text's section, e.g. the option lines under `Options:`. */
function section(help: string, title: string): string[] {
  const start = help.indexOf(`\n${title}:`);
  if (start === -1) return [];
  const rest = help.slice(start + 1).split("\n");
  const end = rest.findIndex((line, i) => i > 0 && line === "");
  return rest.slice(0, end === -1 ? undefined : end);
}

Deno.test("every command's --help follows one style: Usage, Options, Permissions, Exit codes, Examples", async () => {
  for (const command of COMMANDS) {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout, stderr } = await runCli([], [command, flag]);
      assert.equal(code, 0, `${command} ${flag}: ${stderr}`);
      assert.equal(stderr, "");
      assert.ok(stdout.startsWith(`Usage: bittern ${command}`), `${command}: ${stdout}`);
      const options = section(stdout, "Options");
      assert.ok(
        options.some((line) => /^ {2}-h, --help +show this help$/.test(line)),
        `${command}: no -h, --help under Options:\n${stdout}`,
      );
      for (const option of options.slice(1)) {
        assert.match(option, /^ {2}(-\w, )?--[a-z-]+|^ {4,}\S/, `${command}: option line`);
      }
      const examples = section(stdout, "Examples").slice(1);
      assert.ok(examples.length > 0, `${command}: no Examples:\n${stdout}`);
      for (const example of examples) {
        assert.match(example, new RegExp(`^ {2}deno run .*cli\\.ts ${command}\\b`));
        assert.doesNotMatch(example, /\s(-A|--allow-all)\b/, "never document -A");
      }
      assert.ok(section(stdout, "Exit codes").length > 0, `${command}: no Exit codes`);
      if (command !== "version") {
        assert.ok(section(stdout, "Permissions").length > 0, `${command}: no Permissions`);
      }
    }
  }
});

Deno.test("bittern with no command, help or --help prints the command list; -V the version", async () => {
  for (const args of [[], ["help"], ["--help"], ["-h"]]) {
    const { code, stdout } = await runCli([], args);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: bittern <command> \[options\]$/m);
    for (const command of COMMANDS) assert.match(stdout, new RegExp(`^ {2}${command} `, "m"));
  }
  for (const args of [["version"], ["--version"], ["-V"]]) {
    const { code, stdout } = await runCli([], args);
    assert.equal(code, 0);
    assert.match(stdout, /^bittern \d+\.\d+\.\d+/);
  }
});

Deno.test("an unknown command or flag exits 2 and names it", async () => {
  const unknownCommand = await runCli([], ["fetch", "x.torrent"]);
  assert.equal(unknownCommand.code, 2);
  assert.match(unknownCommand.stderr, /^bittern: unknown command 'fetch'/);
  for (const command of COMMANDS) {
    const result = await runCli([], [command, "--frobnicate"]);
    assert.equal(result.code, 2, `${command}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^bittern ${command}: .*'--frobnicate'`));
    assert.doesNotMatch(result.stderr, STACK_LINE);
  }
});

Deno.test("bad flag values exit 2 and say what was expected", async () => {
  const cases: [string[], RegExp][] = [
    [["download", "x.torrent", "--port", "70000"], /--port expects 0\.\.65535, not '70000'/],
    [["download", "x.torrent", "--port", "http"], /--port expects 0\.\.65535, not 'http'/],
    [
      ["download", "x.torrent", "--selector", "foo"],
      /--selector expects sequential \| rarest \| random-rarest, not 'foo'/,
    ],
    [["download", "x.torrent", "--files", "x"], /--files expects indices like 0,2,5, not 'x'/],
    [["download", "x.torrent", "--files", "1,,2"], /--files expects indices like 0,2,5/],
    [
      ["download", "x.torrent", "--seed-ratio=-1"],
      /--seed-ratio expects a positive number, not '-1'/,
    ],
    [["download", "x.torrent", "--seed-ratio", "-1"], /use '--seed-ratio=-XYZ'/],
    [["download", "x.torrent", "--seed-ratio", "lots"], /--seed-ratio expects a positive number/],
    [["download", "x.torrent", "--peer", "nowhere"], /--peer expects HOST:PORT/],
    [["download"], /expected one torrent file or URL/],
    [["download", "a.torrent", "b.torrent"], /expected one torrent file or URL/],
    [["seed", "x.torrent"], /--data DIR is required/],
    [["seed", "x.torrent", "--data", "d", "--port", "-5"], /use '--port=-XYZ'/],
    [["seed", "x.torrent", "--data", "d", "--port", "1.5"], /--port expects 0\.\.65535/],
    [["create", "dir"], /missing -o\/--output/],
    [["create", "dir", "-o", "x.torrent", "--piece-length", "big"], /--piece-length/],
    [["info"], /expected one torrent/],
    [["verify", "x.torrent"], /--data DIR is required/],
    [["tracker", "--port", "70000"], /--port must be an integer from 0 to 65535/],
    [["tracker", "--interval", "0"], /--interval must be an integer from 1 to 86400/],
    [["tracker", "extra"], /'extra'/],
    [["version", "extra"], /'extra'/],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli([], args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, expected, args.join(" "));
    // The usage follows the problem, so the user sees the right form at once.
    assert.match(result.stderr, /\n\nUsage: bittern /, args.join(" "));
  }
});
