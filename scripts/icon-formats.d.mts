export const ICNS_TYPES: [string, number][]
export const ICO_SIZES: number[]
export function writeIcns(pngBySize: Map<number, Buffer>): Buffer
export function readIcns(buf: Buffer): { type: string; data: Buffer }[]
export function writeIco(images: { size: number; png: Buffer; rgba: Buffer }[]): Buffer
export function readIco(buf: Buffer): { size: number; kind: 'png' | 'dib'; data: Buffer }[]
