// The api service: prices an item. Start: node --import @astralog/otel/register --require ./tracing.cjs api.cjs
const http = require('node:http');

const server = http.createServer((req, res) => {
  const item = new URL(req.url, 'http://api').searchParams.get('item') ?? 'unknown';
  console.log(`pricing ${item}`);
  const price = 100 + item.length * 7;
  if (item === 'broken') console.error(`no price for ${item}`);
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ item, price }));
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`api ready on port ${server.address().port}`);
});
process.on('SIGTERM', () => server.close());
