export const PNG_SIZES: number[]
export function makeIcons(outDir?: string, svgPath?: string): Promise<string>
