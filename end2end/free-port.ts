import { execSync } from 'node:child_process';

// A free local port, chosen once per run and kept in `name` so that the workers, which
// inherit the runner's environment, agree on it.
export function freePort(name: string): string {
  if (!process.env[name]) {
    process.env[name] = execSync(
      `node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"`,
    )
      .toString()
      .trim();
  }
  return process.env[name]!;
}
