// The Cairn Console (docs/console.md): GET /console serves its page and GET /console/:file its
// script and styles, all from memory, so no request leaves the node. The page reads everything else
// through the API like any client. A strict Content-Security-Policy keeps it to its own files.
import { ApiError } from "../errors.ts";
import type { RouteContext } from "../http.ts";

// connect-src allows other nodes' APIs: the console merges the traces and statuses of every node.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function registerConsoleRoutes(ctx: RouteContext): void {
  const serve = (file: string) => {
    const assets = ctx.console;
    const found = assets?.files.get(file);
    if (found === undefined) {
      if (assets === undefined || assets.files.size === 0) {
        throw new ApiError(
          "NOT_FOUND",
          assets?.missing ?? "this node serves no console (docs/console.md: it is built by `npm install`)",
        );
      }
      throw new ApiError("NOT_FOUND", `the console has no file ${file}`);
    }
    return found;
  };
  ctx.app.get("/console", async (_req, reply) => reply.redirect("/console/", 302));
  ctx.app.get("/console/", async (_req, reply) => {
    const f = serve("index.html");
    return reply
      .code(200)
      .type(f.type)
      .header("content-security-policy", CSP)
      .header("cache-control", "no-cache")
      .header("x-content-type-options", "nosniff")
      .send(Buffer.from(f.body));
  });
  ctx.app.get("/console/:file", async (req, reply) => {
    const { file } = req.params as { file: string };
    const f = serve(file);
    return reply
      .code(200)
      .type(f.type)
      .header("cache-control", "no-cache")
      .header("x-content-type-options", "nosniff")
      .send(Buffer.from(f.body));
  });
}
