// Discovers arc.v1.ArcSolver through gRPC server reflection (the path ghz, grpcurl and Postman
// take: no .proto files on this side) and calls Solve twice with requests built from JSON: once
// with the raw task file as task_json, once with the task converted to structured messages.
//
//   node tests/client_reflection.js HOST:PORT TASK.json NODE_MODULES_DIR [OPTIONS_JSON]
//
// Prints one JSON object to stdout: {"reflection": "v1"|"v1alpha", "services": [...],
// "methods": [...], "task_json": <SolveResponse>, "structured": <SolveResponse>}. Exit 0 on success,
// 1 with a message on stderr otherwise.
'use strict';

const fs = require('fs');
const path = require('path');

const [host, taskPath, modulesDir, optionsJson] = process.argv.slice(2);
if (!host || !taskPath || !modulesDir) {
  console.error('usage: client_reflection.js HOST:PORT TASK.json NODE_MODULES_DIR [OPTIONS_JSON]');
  process.exit(2);
}
const grpc = require(path.join(modulesDir, '@grpc/grpc-js'));
const { GrpcReflection } = require(path.join(modulesDir, 'grpc-js-reflection-client'));

const SERVICE = 'arc.v1.ArcSolver';
const options = optionsJson ? JSON.parse(optionsJson) : {};

// An ARC task file's grids (lists of lists of ints) as arc.v1.Grid JSON ({"rows": ["012", ...]}).
function gridToProto(grid) {
  return { rows: grid.map((row) => row.join('')) };
}
function taskToProto(task) {
  return {
    train: task.train.map((e) => ({ input: gridToProto(e.input), output: gridToProto(e.output) })),
    test: task.test.map((t) => (t.output ? { input: gridToProto(t.input), output: gridToProto(t.output) }
                                         : { input: gridToProto(t.input) })),
  };
}

function call(client, method, request, seconds) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + seconds * 1000);
    client[method](request, { deadline }, (err, response) => {
      if (err) reject(new Error(`${method}: ${err.code} ${err.details}`));
      else resolve(response);
    });
  });
}

// Newer servers speak grpc.reflection.v1, older ones only v1alpha: try v1 first, as ghz does.
async function discover() {
  let lastError;
  for (const version of ['v1', 'v1alpha']) {
    try {
      const reflection = new GrpcReflection(host, grpc.credentials.createInsecure(), {}, version);
      const services = await reflection.listServices();
      const methods = (await reflection.listMethods(SERVICE)).map((m) => m.name);
      const descriptor = await reflection.getDescriptorBySymbol(SERVICE);
      return { version, services, methods, descriptor };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

(async () => {
  const { version, services, methods, descriptor } = await discover();
  const pkg = descriptor.getPackageObject({ keepCase: true, longs: String, enums: String,
                                            defaults: false, oneofs: true });
  const Solver = pkg.arc.v1.ArcSolver;
  const client = new Solver(host, grpc.credentials.createInsecure());
  const text = fs.readFileSync(taskPath, 'utf8');
  const taskId = path.basename(taskPath, '.json');
  const viaJson = await call(client, 'Solve',
                             { request_id: `reflection-json-${process.pid}`, task_json: text,
                               task_id: taskId, options }, 120);
  const viaMessages = await call(client, 'Solve',
                                 { request_id: `reflection-msg-${process.pid}`,
                                   task: taskToProto(JSON.parse(text)), task_id: taskId, options },
                                 120);
  client.close();
  process.stdout.write(JSON.stringify({ reflection: version, services, methods,
                                        task_json: viaJson, structured: viaMessages }) + '\n');
  process.exit(0);
})().catch((e) => {
  console.error(`client_reflection.js: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
