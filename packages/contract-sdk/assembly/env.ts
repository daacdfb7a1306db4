// Host ABI v1 (docs/contracts.md): the only imports a Cairn contract may have, besides
// AssemblyScript's own `env.abort`. Pointers and lengths are i32 offsets into linear memory.

@external("cairn", "input_len")
export declare function input_len(): i32;

@external("cairn", "input_read")
export declare function input_read(ptr: usize): void;

@external("cairn", "buffer_read")
export declare function buffer_read(ptr: usize): void;

@external("cairn", "storage_get")
export declare function storage_get(kPtr: usize, kLen: i32): i32;

@external("cairn", "storage_has")
export declare function storage_has(kPtr: usize, kLen: i32): i32;

@external("cairn", "storage_set")
export declare function storage_set(kPtr: usize, kLen: i32, vPtr: usize, vLen: i32): void;

@external("cairn", "storage_delete")
export declare function storage_delete(kPtr: usize, kLen: i32): void;

@external("cairn", "storage_next")
export declare function storage_next(pPtr: usize, pLen: i32, aPtr: usize, aLen: i32): i32;

@external("cairn", "caller")
export declare function caller(ptr: usize): void;

@external("cairn", "block_height")
export declare function block_height(): i64;

@external("cairn", "block_time")
export declare function block_time(): i64;

@external("cairn", "emit")
export declare function emit(nPtr: usize, nLen: i32, dPtr: usize, dLen: i32): void;

@external("cairn", "ret")
export declare function ret(ptr: usize, len: i32): void;

@external("cairn", "fail")
export declare function fail(cPtr: usize, cLen: i32, mPtr: usize, mLen: i32): void;

// Private data (docs/privacy.md): a contract sees only the hashes of a transaction's private writes.

@external("cairn", "private_count")
export declare function private_count(): i32;

@external("cairn", "private_ref")
export declare function private_ref(index: i32): i32;

@external("cairn", "private_put")
export declare function private_put(index: i32): void;

@external("cairn", "private_hash")
export declare function private_hash(cPtr: usize, cLen: i32, kPtr: usize): i32;
