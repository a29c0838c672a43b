import type { Sandbox } from "../core/types.js";

/** Runs a round's checks where they can be trusted: in the project's image, or in a trusted one. */
export type CheckRunner = Pick<Sandbox, "runChecks" | "runService">;
