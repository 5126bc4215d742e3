// Runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU) on one
// float32 .npy input and writes every output as OUTDIR/<output name>.npy
// (float32, C order). Install first: npm ci --ignore-scripts (in this
// folder; the package's install script fetches GPU binaries, which cnnc
// does not use: the CPU library ships inside the package).
//
//   node run.js MODEL.onnx X.npy OUTDIR
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// readNpy reads a float32 little-endian C-order .npy file (version 1-3).
function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || descr[1] !== '<f4') throw new Error(`${file}: dtype ${descr && descr[1]}, want <f4 (float32)`);
  if (!order || order[1] !== 'False') throw new Error(`${file}: Fortran order`);
  const dims = shape[1].split(',').map(s => s.trim()).filter(s => s !== '').map(Number);
  const n = dims.reduce((a, d) => a * d, 1);
  const off = start + hlen;
  if (b.length - off !== 4 * n) throw new Error(`${file}: ${b.length - off} bytes of data for shape (${dims})`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = b.readFloatLE(off + 4 * i);
  return { dims, data };
}

// writeNpy writes a float32 array as a version 1.0 .npy file.
function writeNpy(file, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1; h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const [model, input, outdir] = process.argv.slice(2);
  if (!outdir) {
    console.error('usage: node run.js MODEL.onnx X.npy OUTDIR');
    process.exit(2);
  }
  const x = readNpy(input);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
  const out = await session.run(feeds);
  fs.mkdirSync(outdir, { recursive: true });
  for (const name of session.outputNames) {
    writeNpy(path.join(outdir, name + '.npy'), out[name].dims, out[name].data);
  }
  console.log(`onnxruntime ${ort.env.versions.common}: ${session.outputNames.join(', ')}`);
}

main().catch(e => { console.error(String(e && e.message || e)); process.exit(1); });
