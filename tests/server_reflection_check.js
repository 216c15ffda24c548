// Reflection check for arc-server, the path grpcurl and ghz take: discover the services through
// grpc.reflection, build an ArcSolver client from the downloaded descriptors (no .proto file), and
// call Solve with a request written as JSON. Prints one JSON line; exit status 0 on success.
//
//   NODE_PATH=third_party_npm/node_modules node tests/server_reflection_check.js HOST:PORT TASK.json
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');

async function main() {
  const [target, taskPath] = process.argv.slice(2);
  const reflection = new GrpcReflection(target, grpc.credentials.createInsecure());
  const services = await reflection.listServices();
  const descriptor = await reflection.getDescriptorBySymbol('arc.v1.ArcSolver');
  const pkg = descriptor.getPackageObject({ keepCase: true, enums: String, longs: String, defaults: false });
  const client = new pkg.arc.v1.ArcSolver(target, grpc.credentials.createInsecure());
  const request = JSON.parse(`{
    "request_id": "reflection-1",
    "task_json": ${JSON.stringify(fs.readFileSync(taskPath, 'utf8'))},
    "options": {
      "seed": "3",
      "experts": "EXPERTS_TTT",
      "ttt_options": {"max_samples": 4, "augment": false, "permute_n": 0, "max_steps": 2},
      "inference": {"permutations": 0, "transforms": "VIEW_TRANSFORMS_NONE", "batch_size": 4}
    }
  }`);
  const deadline = new Date(Date.now() + 30000);
  const response = await new Promise((resolve, reject) =>
    client.Solve(request, { deadline }, (err, data) => (err ? reject(err) : resolve(data))));
  console.log(JSON.stringify({
    services,
    job_id: response.job_id,
    ttt_steps: response.ttt.steps,
    attempt_1: response.predictions[0].attempt_1.rows,
  }));
  client.close();
}

main().then(() => process.exit(0), (err) => {
  console.log(JSON.stringify({ error: String(err && err.message ? err.message : err) }));
  process.exit(1);
});
