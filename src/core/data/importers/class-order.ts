/**
 * The order class folders become class indices in: natural, not alphabetical. Numbers inside names
 * compare by value (`class2` before `class10`, `7` before `10`), and a set of classes named by
 * English number words (`zero` ... `twenty`, any case) is ordered by value ("zero, one, two" rather
 * than "eight, five, four"). The order is stored with the dataset at import, so datasets imported
 * before keep theirs.
 */
export const naturalOrder = new Intl.Collator('en', { numeric: true }).compare

const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
  'twenty',
]

/** Number words by value when every name is one, else natural (numeric-aware) order. A new array. */
export function sortClassNames(names: readonly string[]): string[] {
  const values = names.map((n) => NUMBER_WORDS.indexOf(n.trim().toLowerCase()))
  // Only when all are number words: mixing the two rules would not be a consistent order.
  if (names.length > 1 && values.every((v) => v >= 0)) {
    return names
      .map((n, i) => ({ n, v: values[i]! }))
      .sort((a, b) => a.v - b.v || naturalOrder(a.n, b.n))
      .map((x) => x.n)
  }
  return [...names].sort(naturalOrder)
}
