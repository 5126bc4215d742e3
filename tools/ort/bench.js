// Times ONNX Runtime (onnxruntime-node, CPU) on a model for bench/compare.sh:
// 2 intra-op threads, all graph optimisations, random input of the given
// batch; prints "ort NAME infer BATCH IMG/S PEAK_RSS_KB".
//
//   node bench.js MODEL.onnx NAME BATCH [SECONDS]
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [model, name, b, s] = process.argv.slice(2);
  const batch = Number(b), secs = Number(s || 2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  let dims = meta && meta.shape ? meta.shape.slice(1) : null;
  if (!dims || dims.some(d => typeof d !== 'number')) throw new Error('cannot read the input shape of ' + model);
  const n = batch * dims.reduce((a, d) => a * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.random() * 2 - 1;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, ...dims]) };
  await session.run(feeds); // warm-up
  let k = 0;
  const t0 = process.hrtime.bigint();
  let el = 0;
  while (el < secs || k < 2) {
    await session.run(feeds);
    k++;
    el = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  console.log(`ort ${name} infer ${batch} ${(k * batch / el).toFixed(1)} ${process.resourceUsage().maxRSS}`);
}

main().catch(e => { console.error(String(e && e.message || e)); process.exit(1); });
