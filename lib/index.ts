/**
 * unreasonable: a byte-level char-RNN library on TensorFlow.js.
 * The notebooks and the CLI import everything from here (the toolkit from ./toolkit, notebook
 * helpers from ./notebook). Listed by layer, bottom up; each folder imports only those above it
 * in this list (test/layout.test.ts).
 */
// util: errors, the seeded generator
export * from './util/errors';
export * from './util/rng';
// io: files and formats
export * from './io/atomic';
export * from './io/lock';
export * from './io/safetensors';
export * from './io/checkpoint-files';
// data: bytes, corpora, batches
export * from './data/vocab';
export * from './data/corpus';
export * from './data/batches';
// nn: cells, unrolling, the model, loss, fast sequence kernels, attention
export * from './nn/ops';
export * from './nn/cells';
export * from './nn/unroll';
export * from './nn/embedding';
export * from './nn/loss';
export * from './nn/host-values';
export * from './nn/recurrence';
export * from './nn/lstm-fused';
export * from './nn/sequence';
export * from './nn/model';
export * from './nn/attention';
// generate: sampling, the batch-1 stepper, the loss of a text
export * from './generate/stepper';
export * from './generate/sample';
export * from './generate/evaluate';
// train: optimizers, checkpoints, the trainer
export * from './train/optim';
export * from './train/checkpoint';
export * from './train/trainer';
// experiments: the revisit's recall task and cost measurements
export * from './experiments/recall';
export * from './experiments/scaling';
// pretrained: the shipped models and their recipes
export * from './pretrained/recipes';
export * from './pretrained/load';
// interop: PyTorch checkpoints, TF.js LayersModel and standalone-page export
export * from './interop/torch';
export * from './interop/layers-model';
export * from './interop/html-page';
// backend: which TensorFlow.js backend runs
export * from './backend/select';
