// @cairn/bench: `cairn bench`, benchmarking a Cairn cluster against the FG DLT assessment criteria.
export * from "./report.ts";
