// The command that carries a run on, as the terminal prints it (the report prints the same).
export { continueCommand, limitsReached, type ReachedLimit, shellQuote } from "../engine/continue.js";
