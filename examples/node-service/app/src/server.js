import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 3000);
createServer((req, res) => {
  if (req.url === "/healthz") return void res.end("ok\n");
  res.setHeader("content-type", "text/plain");
  res.end(`hello from node-service (${process.env.NODE_ENV})\n`);
}).listen(port, () => console.log(`listening on :${port}`));
