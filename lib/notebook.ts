/**
 * What the notebooks import besides the library itself (`./lib/notebook`): smoke mode, plotly
 * charts, the live training display, tables, static pictures and pages (lib/notebook/).
 */
export * from './notebook/mode';
export * from './notebook/display';
export * from './notebook/figure';
export * from './notebook/show';
export * from './notebook/charts';
export * from './notebook/live';
export * from './notebook/static';
export * from './notebook/pages';
export * from './notebook/table';
