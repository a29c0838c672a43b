import { main } from "./main.js";

/** The process-facing edge: wires argv, env, streams and signals into main(). */
const code = await main(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  onInterrupt: (handler) => {
    const onInt = () => handler("SIGINT");
    const onTerm = () => handler("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    return () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    };
  },
  exitNow: (exitCode) => process.exit(exitCode),
});

// Leave once both streams have flushed, whatever sockets or timers a library left open.
process.exitCode = code;
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
