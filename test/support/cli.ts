import { runCli } from '../../src/cli/main.ts';

/** Runs the real CLI in this process against a service, its output captured instead of printed. */
export async function runCliAgainst(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--url', url], {}, {
    stdout: { write: (text) => void (stdout += text) },
    stderr: { write: (text) => void (stderr += text) },
  });
  return { code, stdout, stderr };
}
