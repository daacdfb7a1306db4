// Waiting in tests: the shared implementation of @cairn/test-utils.
export { until, waitFor } from "@cairn/test-utils";
