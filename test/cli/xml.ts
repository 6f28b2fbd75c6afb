/**
 * A small, strict XML reader for tests: enough of XML 1.0 to prove a report is well formed
 * (one root, matched tags, quoted attributes, only the five named entities and numeric
 * references) and to read its elements back. It throws on anything else.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const isNameChar = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '-' || c === ':' || c === '.';

export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`XML: ${msg} at offset ${i}`);
  };
  const skipSpace = (): void => {
    while (i < src.length && ' \t\r\n'.includes(src[i]!)) i++;
  };
  const name = (): string => {
    const start = i;
    while (i < src.length && isNameChar(src[i]!)) i++;
    if (i === start) fail('name expected');
    return src.slice(start, i);
  };
  const decode = (raw: string): string => {
    let out = '';
    for (let j = 0; j < raw.length; j++) {
      const c = raw[j]!;
      if (c === '<') fail('raw < in text');
      if (c !== '&') {
        out += c;
        continue;
      }
      const end = raw.indexOf(';', j);
      if (end < 0) fail('unterminated entity');
      const ent = raw.slice(j + 1, end);
      if (ent.startsWith('#x')) out += String.fromCodePoint(parseInt(ent.slice(2), 16));
      else if (ent.startsWith('#')) out += String.fromCodePoint(Number(ent.slice(1)));
      else if (ent in NAMED) out += NAMED[ent];
      else fail(`unknown entity &${ent};`);
      j = end;
    }
    return out;
  };
  const element = (): XmlElement => {
    if (src[i] !== '<') fail('< expected');
    i++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (src.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (src[i] === '>') {
        i++;
        break;
      }
      const key = name();
      if (key in el.attrs) fail(`duplicate attribute ${key}`);
      skipSpace();
      if (src[i] !== '=') fail('= expected');
      i++;
      skipSpace();
      const q = src[i];
      if (q !== '"' && q !== "'") fail('quoted attribute value expected');
      const end = src.indexOf(q, i + 1);
      if (end < 0) fail('unterminated attribute');
      el.attrs[key] = decode(src.slice(i + 1, end));
      i = end + 1;
    }
    for (;;) {
      const lt = src.indexOf('<', i);
      if (lt < 0) fail(`</${el.name}> missing`);
      el.text += decode(src.slice(i, lt));
      i = lt;
      if (src.startsWith('</', i)) {
        i += 2;
        if (name() !== el.name) fail(`</${el.name}> expected`);
        skipSpace();
        if (src[i] !== '>') fail('> expected');
        i++;
        return el;
      }
      el.children.push(element());
    }
  };
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) fail('unterminated declaration');
    i = end + 2;
  }
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== src.length) fail('content after the root element');
  return root;
}

export function descendants(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...descendants(c, name)]);
}
