// @cairn/contract-sdk: the AssemblyScript library Cairn contracts are written with (host ABI v1,
// docs/contracts.md). Build contracts with `cairn contract build`, which uses the stub runtime.
export { concat, equal, hex, utf8 } from "./bytes";
export { checkId, checkText } from "./checks";
export { Args, Writer } from "./codec";
export { context, emit, returnValue } from "./context";
export { fail, require } from "./errors";
export { PrivateRef, privateData } from "./private";
export { hasOwner, initOwner, Member, Members, owner, requireInitialized, requireOwner } from "./roles";
export { storage } from "./storage";
