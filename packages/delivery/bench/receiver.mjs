// The bench's webhook receiver, in a process of its own so it does not share the measured
// process's CPU. Answers 200 at once and reports each delivery to the parent over IPC:
// [deliveryId, transitionId, receivedAtMs].
import { createServer } from 'node:http'

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const receivedAt = Date.now()
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    let transitionId = null
    try {
      transitionId = JSON.parse(Buffer.concat(chunks).toString('utf8')).transition?.id ?? null
    } catch {}
    process.send?.([req.headers['x-jetmon-delivery'] ?? null, transitionId, receivedAt])
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }))
process.on('disconnect', () => process.exit(0))
