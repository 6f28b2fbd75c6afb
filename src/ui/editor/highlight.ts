import { HighlightStyle } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';

/**
 * Syntax colours from the app's code palette (CSS custom properties set per theme in index.html), so the
 * editor reads like the code view and meets 4.5:1 in light and dark; CodeMirror's default style is for a
 * light background only.
 */
export const racebox = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword, t.definitionKeyword], color: 'var(--rb-code-keyword)', fontWeight: '600' },
  { tag: [t.string, t.special(t.string), t.regexp], color: 'var(--rb-code-string)' },
  { tag: [t.number, t.bool, t.null], color: 'var(--rb-code-number)' },
  { tag: [t.comment, t.lineComment, t.blockComment], color: 'var(--rb-code-comment)', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: 'var(--rb-code-api)' },
  { tag: [t.constant(t.variableName), t.typeName, t.className], color: 'var(--rb-code-const)' },
  { tag: [t.variableName, t.propertyName, t.definition(t.variableName), t.operator, t.punctuation], color: 'var(--rb-code-fg)' },
]);
