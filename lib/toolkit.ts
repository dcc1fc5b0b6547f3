/**
 * The hidden-state toolkit in one import (notebooks: `import { record, searchUnits, showUnit }
 * from "./lib/toolkit"`): record what units do over a text, search for units that track a
 * feature, and picture them.
 *
 *   lib/toolkit/record.ts        record(): h, c, gates, next-byte predictions per byte (streamed)
 *   lib/toolkit/neurons.ts       text features and searchUnits(): rank units by |Pearson correlation|
 *   lib/toolkit/gradflow.ts      gradientVsDepth(): ‖∂loss_T/∂h_(T−k)‖, RNN vs LSTM
 *   lib/toolkit/viz/text.ts      text coloured by a unit, top-5 prediction columns (HTML)
 *   lib/toolkit/viz/units.ts     units × positions heatmap, gate-saturation scatter (plotly)
 *   lib/toolkit/viz/diagram.ts   the unrolled network as a Graphviz SVG
 *   lib/toolkit/viz/explore.ts   explore(): an interactive LSTMVis-style neuron explorer in one HTML output
 */
export * from './toolkit/record';
export * from './toolkit/neurons';
export * from './toolkit/gradflow';
export * from './toolkit/viz/text';
export * from './toolkit/viz/units';
export * from './toolkit/viz/diagram';
export * from './toolkit/viz/explore';
