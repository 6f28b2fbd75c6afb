import { describe, expect, it } from 'vitest';
import { junitXml, xmlEscape } from '../../src/cli/junit.ts';
import { descendants, parseXml } from './xml.ts';

describe('JUnit XML', () => {
  it('escapes markup and control characters so any message reads back unchanged', () => {
    const nasty = `a <b> & "c" 'd' ]]> \u0001tab\there\nline two`;
    expect(xmlEscape(nasty)).not.toMatch(/[<>"'\u0001]/);
    const xml = junitXml('suite <1>', [
      { name: nasty, classname: 'x&y', timeMs: 1234, failure: { message: nasty, type: 'mismatch', text: `schedule: rb1.A\n${nasty}` } },
      { name: 'fine on rig', classname: 'racebox.fine', timeMs: 5 },
      { name: 'broken', classname: 'b.ts', timeMs: 0, error: { message: 'does not load', type: 'bad-input', text: 'why' } },
    ]);
    const doc = parseXml(xml);
    const suite = descendants(doc, 'testsuite')[0]!;
    expect(suite.attrs).toMatchObject({ name: 'suite <1>', tests: '3', failures: '1', errors: '1', time: '1.239' });
    const cases = descendants(doc, 'testcase');
    expect(cases).toHaveLength(3);
    const stripped = nasty.replace('\u0001', '');
    expect(cases[0]!.attrs).toEqual({ name: stripped, classname: 'x&y', time: '1.234' });
    const failure = cases[0]!.children[0]!;
    expect(failure.name).toBe('failure');
    expect(failure.attrs.message).toBe(stripped);
    expect(failure.text).toBe(`schedule: rb1.A\n${stripped}`);
    expect(cases[1]!.children).toHaveLength(0);
    expect(cases[2]!.children[0]!.name).toBe('error');
  });

  it('the reader used by these tests rejects what is not well formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a x="1 & 2"/>')).toThrow();
    expect(() => parseXml('<a>1 < 2</a>')).toThrow();
    expect(() => parseXml('<a/><b/>')).toThrow();
  });
});
