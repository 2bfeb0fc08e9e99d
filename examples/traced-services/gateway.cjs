// The gateway: takes /checkout and asks the api for a price over HTTP.
// Start: API_URL=http://127.0.0.1:<port> node --import @astralog/otel/register --require ./tracing.cjs gateway.cjs
const http = require('node:http');

const apiUrl = process.env.API_URL ?? 'http://127.0.0.1:8081';

const server = http.createServer((req, res) => {
  const item = new URL(req.url, 'http://gateway').searchParams.get('item') ?? 'unknown';
  console.log(`checkout started for ${item}`);
  http.get(`${apiUrl}/price?item=${encodeURIComponent(item)}`, (apiRes) => {
    let body = '';
    apiRes.on('data', (chunk) => (body += chunk));
    apiRes.on('end', () => {
      const { price } = JSON.parse(body);
      console.log(`checkout priced ${item} at ${price}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ item, price }));
    });
  }).on('error', (error) => {
    console.error(`api unreachable: ${error.message}`);
    res.writeHead(502).end();
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`gateway ready on port ${server.address().port}`);
});
process.on('SIGTERM', () => server.close());
