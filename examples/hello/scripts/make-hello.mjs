// Writes `hello`: a ~220-byte static Linux x86-64 executable that prints a greeting and exits 0.
// It has no libc and no interpreter, so it runs in a `scratch` image. The bytes are built here
// from the instructions below (no assembler needed); run `node scripts/make-hello.mjs` to
// regenerate the committed file.
import { writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const message = Buffer.from("Hello from Strata! This image was built without a Docker daemon.\n");
const base = 0x400000;
const headers = 64 + 56;
const code = Buffer.from([
  0xb8, 0x01, 0x00, 0x00, 0x00, //       mov eax, 1        (write)
  0xbf, 0x01, 0x00, 0x00, 0x00, //       mov edi, 1        (stdout)
  0x48, 0x8d, 0x35, 0x10, 0x00, 0x00, 0x00, // lea rsi, [rip+16] (the message after the code)
  0xba, message.length, 0x00, 0x00, 0x00, // mov edx, len
  0x0f, 0x05, //                         syscall
  0xb8, 0x3c, 0x00, 0x00, 0x00, //       mov eax, 60       (exit)
  0x31, 0xff, //                         xor edi, edi      (status 0)
  0x0f, 0x05, //                         syscall
]);
const total = headers + code.length + message.length;
const elf = Buffer.alloc(64);
Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(elf, 0); // ELF64, little endian, SysV
elf.writeUInt16LE(2, 16); // ET_EXEC
elf.writeUInt16LE(0x3e, 18); // x86-64
elf.writeUInt32LE(1, 20); // version
elf.writeBigUInt64LE(BigInt(base + headers), 24); // entry
elf.writeBigUInt64LE(64n, 32); // program headers offset
elf.writeUInt16LE(64, 52); // ELF header size
elf.writeUInt16LE(56, 54); // program header size
elf.writeUInt16LE(1, 56); // one program header
elf.writeUInt16LE(64, 58); // section header size (none present)
const ph = Buffer.alloc(56);
ph.writeUInt32LE(1, 0); // PT_LOAD
ph.writeUInt32LE(5, 4); // R + X
ph.writeBigUInt64LE(0n, 8); // offset
ph.writeBigUInt64LE(BigInt(base), 16); // vaddr
ph.writeBigUInt64LE(BigInt(base), 24); // paddr
ph.writeBigUInt64LE(BigInt(total), 32); // file size
ph.writeBigUInt64LE(BigInt(total), 40); // memory size
ph.writeBigUInt64LE(0x1000n, 48); // alignment
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "hello");
writeFileSync(out, Buffer.concat([elf, ph, code, message]));
chmodSync(out, 0o755);
console.log(`wrote ${out} (${total} bytes)`);
