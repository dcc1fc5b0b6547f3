/**
 * Export a trained model as a standard TensorFlow.js LayersModel, for tf.loadLayersModel in a
 * browser (or in Node with tf.io.fromMemory):
 *
 *   model.json   topology (tf.sequential: per layer tf.layers.lstm / simpleRNN with
 *                returnSequences, then a dense softmax decoder) + weights manifest
 *   weights.bin  the weights, float32
 *   vocab.json   {"id_to_byte": [...]} and how to feed the model
 *
 * Input: one-hot bytes [batch, time, vocab] (id = index into id_to_byte), or the ids [batch, time]
 * for a model with an input embedding (config.embeddingSize; tf.layers.embedding comes first);
 * output: next-byte probabilities [batch, time, vocab]. Keras' LSTM uses our gate order (i, f, c, o) and layout
 * (kernel [in, 4H], recurrent kernel [H, 4H], one bias), so weights copy over unchanged.
 * Dropout is left out (it is the identity at inference). GRU cannot be exported: tf.layers.gru
 * lacks reset_after, the form our GRU (PyTorch's) uses.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeDirAtomic } from '../io/atomic';
import { UserError } from '../util/errors';
import { CharModel } from '../nn/model';
import { ByteVocab } from '../data/vocab';

export const EXPORT_FILES = ['model.json', 'weights.bin', 'vocab.json'];

/**
 * Our RNN activations by their tfjs-layers names. GELU has none that loads: tfjs-layers' 'gelu' is
 * the exact erf form (ours is the tanh approximation), and its 'gelu_new' does not deserialize.
 */
const LAYERS_ACTIVATION = { tanh: 'tanh', relu: 'relu' } as const;

/** Build a tf.Sequential equal to `model` at inference, holding copies of its weights. */
export function toLayersModel(model: CharModel): tf.Sequential {
  const { modelType, vocabSize: V, hiddenSize: H } = model.config;
  if (modelType === 'gru') throw new UserError('GRU models cannot be exported as a LayersModel: tf.layers.gru has no reset_after (PyTorch-style) variant; export works for lstm and rnn');
  if (model.config.activation === 'gelu') throw new UserError('RNNs with the GELU activation cannot be exported as a LayersModel: tf.layers.simpleRNN has no loadable tanh-approximated GELU; export works for tanh and relu');
  const seq = tf.sequential({ name: `unreasonable_char_${modelType}` });
  const E = model.config.embeddingSize;
  if (model.embedding && E) {
    const embed = tf.layers.embedding({ inputDim: V, outputDim: E, inputShape: [null], name: 'embed', embeddingsInitializer: 'zeros' });
    seq.add(embed);
    embed.setWeights([model.embedding]);
  }
  // The weights are copied in below, so the layers start from zeros: tf.layers' default
  // recurrent initializer is orthogonal (a QR decomposition of [H, gates·H], slow for big H,
  // with a console warning above 2000 elements) and would be thrown away.
  const init = { kernelInitializer: 'zeros', recurrentInitializer: 'zeros', biasInitializer: 'zeros' } as const;
  model.cells.forEach((cell, l) => {
    const common = { units: H, returnSequences: true, name: `${modelType}_${l}`, ...init, ...(l === 0 && !model.embedding ? { inputShape: [null, V] } : {}) };
    const layer = modelType === 'lstm'
      ? tf.layers.lstm({ ...common, activation: 'tanh', recurrentActivation: 'sigmoid', unitForgetBias: false })
      : tf.layers.simpleRNN({ ...common, activation: LAYERS_ACTIVATION[cell.activation as 'tanh' | 'relu'] });
    seq.add(layer);
    layer.setWeights([cell.Wx, cell.Wh, cell.b]);
  });
  const decoder = tf.layers.dense({ units: V, activation: 'softmax', name: 'decoder', kernelInitializer: 'zeros', biasInitializer: 'zeros' });
  seq.add(decoder);
  decoder.setWeights([model.Wy, model.by]);
  return seq;
}

/** The files of an export (name → bytes), without writing them. */
export async function exportFiles(model: CharModel, vocab: ByteVocab): Promise<Map<string, Uint8Array | string>> {
  if (vocab.size !== model.config.vocabSize) throw new UserError(`vocabulary has ${vocab.size} bytes, the model ${model.config.vocabSize}`);
  const seq = toLayersModel(model);
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    await seq.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    seq.dispose();
  }
  if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('export: tfjs returned no weights');
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  const { modelType, hiddenSize, numLayers, vocabSize, embeddingSize } = model.config;
  const vocabJson = {
    id_to_byte: Array.from(vocab.idToByte),
    input: embeddingSize
      ? `ids [batch, time] (float32 or int32): position of each byte in id_to_byte (an embedding layer of size ${embeddingSize} comes first)`
      : `one-hot float32 [batch, time, ${vocabSize}]: index = position of the byte in id_to_byte`,
    output: `softmax probabilities of the next byte [batch, time, ${vocabSize}]`,
    model: { modelType, hiddenSize, numLayers, vocabSize, ...(embeddingSize ? { embeddingSize } : {}) },
  };
  return new Map<string, Uint8Array | string>([
    ['model.json', JSON.stringify(modelJson)],
    ['weights.bin', new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))],
    ['vocab.json', JSON.stringify(vocabJson, null, 1) + '\n'],
  ]);
}

/**
 * Write the export into `outDir` (atomically: the directory is replaced whole). A non-empty
 * `outDir` that is not an earlier export is refused rather than overwritten.
 */
export async function exportLayersModel(model: CharModel, vocab: ByteVocab, outDir: string): Promise<{ dir: string; files: string[]; bytes: number }> {
  const dir = path.resolve(outDir);
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new UserError(`export target ${dir} exists and is not a directory`);
    const present = fs.readdirSync(dir);
    const foreign = present.filter((n) => !EXPORT_FILES.includes(n));
    if (foreign.length) throw new UserError(`export target ${dir} holds other files (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): choose a new or empty directory`);
  }
  const files = await exportFiles(model, vocab);
  writeDirAtomic(dir, files, 'export');
  let bytes = 0;
  for (const data of files.values()) bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  return { dir, files: [...files.keys()], bytes };
}
