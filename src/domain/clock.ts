/** Time is passed in everywhere; this is the only shape of a clock the code knows. */
export type Clock = () => number;
