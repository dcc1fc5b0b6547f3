/**
 * The hidden-state toolkit in one import (notebooks: `import { record, searchUnits, showUnit }
 * from "./lib/toolkit"`): record what units do over a text, search for units that track a
 * feature, and picture them.
 *
 *   lib/record.ts        record(): h, c, gates, next-byte predictions per byte (streamed)
 *   lib/neurons.ts       text features and searchUnits(): rank units by |Pearson correlation|
 *   lib/gradflow.ts      gradientVsDepth(): ‖∂loss_T/∂h_(T−k)‖, RNN vs LSTM
 *   lib/viz/text.ts      text coloured by a unit, top-5 prediction columns (HTML)
 *   lib/viz/units.ts     units × positions heatmap, gate-saturation scatter (plotly)
 *   lib/viz/diagram.ts   the unrolled network as a Graphviz SVG
 *   lib/viz/explore.ts   explore(): an interactive LSTMVis-style neuron explorer in one HTML output
 */
export * from './record';
export * from './neurons';
export * from './gradflow';
export * from './viz/text';
export * from './viz/units';
export * from './viz/diagram';
export * from './viz/explore';
