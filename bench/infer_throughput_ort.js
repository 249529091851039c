#!/usr/bin/env node
// ONNX Runtime peer of bench/infer_throughput: FP32 inference of the ResNet-20
// that bench/infer_throughput_torch.py exports to ONNX (--export-onnx), on a
// random float32 batch, through npm's onnxruntime-node (CPU execution
// provider, all graph optimizations, intra-op threads = --threads, one
// inter-op thread).  This is the strongest CPU peer here.
//
// Timing as the C side and the PyTorch peer: warm up until two consecutive
// rates (each over >= 0.25 s of runs) agree within 5%, and for at least
// --warmup-s seconds, capped at --warmup-cap-s; then --rounds rounds, each
// the runs of >= --round-s seconds; the best round counts.
//
// Prints ort_version=, ort_warmup_s=, ort_round=<i> img_s=<x> and
// ort_img_s=<best>.  Usage:
//   infer_throughput_ort.js --model r20.onnx --threads 2 --batch 64 --input 3x32x32
'use strict';

const path = require('path');

function args(argv) {
  const a = {threads: 2, batch: 64, input: '3x32x32', rounds: 3, roundS: 0.5,
             warmupS: 2.0, warmupCapS: 60.0, model: '', modules: ''};
  const keys = {'--threads': 'threads', '--batch': 'batch', '--input': 'input',
                '--rounds': 'rounds', '--round-s': 'roundS', '--warmup-s': 'warmupS',
                '--warmup-cap-s': 'warmupCapS', '--model': 'model',
                '--node-modules': 'modules'};
  for (let i = 2; i < argv.length; i++) {
    const k = keys[argv[i]];
    if (!k || i + 1 >= argv.length) throw new Error(`bad argument '${argv[i]}'`);
    const v = argv[++i];
    a[k] = typeof a[k] === 'number' ? Number(v) : v;
    const min = ['threads', 'batch', 'rounds'].includes(k) ? 1 : 0;
    if (typeof a[k] === 'number' && !(a[k] >= min)) throw new Error(`${argv[i - 1]}: '${v}'`);
  }
  if (!a.model) throw new Error('--model is required');
  if (a.modules) a.modules = path.resolve(a.modules);
  return a;
}

async function rateOver(sess, feeds, batch, minS) {
  const t0 = process.hrtime.bigint();
  let it = 0;
  for (;;) {
    await sess.run(feeds);
    it++;
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (t >= minS) return batch * it / t;
  }
}

async function main() {
  const a = args(process.argv);
  const ort = require(a.modules ? path.join(a.modules, 'onnxruntime-node')
                                : 'onnxruntime-node');
  const [c, h, w] = a.input.split('x').map(Number);
  const sess = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all',
    intraOpNumThreads: a.threads, interOpNumThreads: 1,
    executionMode: 'sequential'});
  const n = a.batch * c * h * w;
  const data = new Float32Array(n);  // (B, C, H, W), N(0,1) by Box-Muller
  let s = 1;
  const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return (s + 1) / 2147483649; };
  for (let i = 0; i < n; i++)
    data[i] = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  const feeds = {[sess.inputNames[0]]: new ort.Tensor('float32', data, [a.batch, c, h, w])};
  const ver = require(path.join(path.dirname(require.resolve(
      a.modules ? path.join(a.modules, 'onnxruntime-node') : 'onnxruntime-node')),
      '..', 'package.json')).version;
  console.log(`ort_version=${ver} threads=${a.threads}`);
  const t0 = process.hrtime.bigint();
  const el = () => Number(process.hrtime.bigint() - t0) / 1e9;
  let prev = await rateOver(sess, feeds, a.batch, 0.25);
  while (el() < a.warmupCapS) {
    const cur = await rateOver(sess, feeds, a.batch, 0.25);
    const steady = Math.abs(cur - prev) <= 0.05 * Math.min(cur, prev);
    if (steady && el() >= a.warmupS) break;
    prev = cur;
  }
  console.log(`ort_warmup_s=${el().toFixed(1)}`);
  let best = 0;
  for (let r = 0; r < a.rounds; r++) {
    const v = await rateOver(sess, feeds, a.batch, a.roundS);
    console.log(`ort_round=${r} img_s=${v.toFixed(1)}`);
    best = Math.max(best, v);
  }
  console.log(`ort_img_s=${best.toFixed(1)}`);
}

main().catch((e) => { console.error(`infer_throughput_ort: ${e.message}`); process.exit(1); });
