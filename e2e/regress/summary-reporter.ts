/**
 * Writes the regression's JSON summary: one entry per row (scenario, rig, expected, observed,
 * schedules run, ms), from the result each row's test attaches, plus the totals. Works on a
 * live run and on merged shard reports alike.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { ROW_ATTACHMENT, type RowResult } from './row.ts';

interface Entry extends Partial<RowResult> {
  title: string;
  status: TestResult['status'];
  error?: string;
}

export default class SummaryReporter implements Reporter {
  private readonly rows = new Map<string, Entry>();

  constructor(private readonly options: { outputFile: string }) {}

  onTestEnd(test: TestCase, result: TestResult): void {
    const a = result.attachments.find((x) => x.name === ROW_ATTACHMENT && x.body);
    const row = a?.body ? (JSON.parse(a.body.toString('utf8')) as RowResult) : undefined;
    const error = result.errors[0]?.message;
    this.rows.set(test.id, { title: test.title, status: result.status, ...row, ...(error && !row ? { error } : {}) });
  }

  onEnd(result: FullResult): void {
    const rows = [...this.rows.values()].sort((a, b) => a.title.localeCompare(b.title));
    const passed = rows.filter((r) => r.status === 'passed').length;
    mkdirSync(dirname(this.options.outputFile), { recursive: true });
    writeFileSync(this.options.outputFile, `${JSON.stringify({ status: result.status, passed, failed: rows.length - passed, rows }, null, 2)}\n`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
