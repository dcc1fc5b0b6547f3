/**
 * unreasonable: a byte-level char-RNN library on TensorFlow.js.
 * The notebooks and the CLI import everything from here.
 */
export * from './atomic';
export * from './attention';
export * from './backend';
export * from './batches';
export * from './cells';
export * from './checkpoint';
export * from './checkpoint-files';
export * from './corpus';
export * from './embedding';
export * from './errors';
export * from './evaluate';
export * from './export';
export * from './lock';
export * from './export-html';
export * from './loss';
export * from './model';
export * from './ops';
export * from './optim';
export * from './recall';
export * from './rng';
export * from './safetensors';
export * from './sample';
export * from './scaling';
export * from './sequence';
export * from './stepper';
export * from './torch';
export * from './train';
export * from './unroll';
export * from './vocab';
