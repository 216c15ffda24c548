// The server in-process on 127.0.0.1 (picked ports) with a tiny random model, driven over gRPC with
// the generated stub: results equal the offline Solver's, every refusal has its exact code and
// message, queue/deadline/cancel/idempotency/health/metrics behave as documented.
#include "server/server.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/data/file_util.h"
#include "core/data/task_io.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/proto_conversion.h"
#include "tests/server_test_util.h"

namespace arc::server {
namespace {

using ::arc::testing::Connect;
using ::arc::testing::FastCoreOptions;
using ::arc::testing::FastProtoOptions;
using ::arc::testing::HealthStatus;
using ::arc::testing::HttpGet;
using ::arc::testing::MetricValue;
using ::arc::testing::SwapTask;
using ::arc::testing::WaitFor;

constexpr int kLongSteps = 1000000;  // a job that runs until cancelled

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    at::set_num_threads(1);
    dir_ = new std::string(arc::testing::TempDir("server_test"));
    model_dir_ = new std::string(arc::testing::SaveTinyServerModel(*dir_ + "/model"));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete model_dir_;
  }

  static ServerOptions Options() {
    ServerOptions o;
    o.address = "127.0.0.1:0";
    o.metrics_address = "127.0.0.1:0";
    o.model_dir = *model_dir_;
    o.threads = 1;
    o.limits.ttt_steps = kLongSteps;
    return o;
  }

  // Starts a server and loads the model (SERVING).
  std::unique_ptr<ArcServer> Serve(ServerOptions o) {
    absl::StatusOr<std::unique_ptr<ArcServer>> s = ArcServer::Start(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return nullptr;
    absl::Status loaded = (*s)->LoadModel();
    EXPECT_TRUE(loaded.ok()) << loaded;
    return *std::move(s);
  }

  static v1::SolveRequest Request(const Task& task, v1::SolveOptions options = FastProtoOptions()) {
    v1::SolveRequest r;
    *r.mutable_task() = TaskToProto(task);
    r.set_task_id(task.id);
    *r.mutable_options() = std::move(options);
    return r;
  }

  static v1::SolveRequest LongRequest(const std::string& request_id = "") {
    v1::SolveRequest r = Request(SwapTask(3, 5), arc::testing::LongProtoOptions(kLongSteps));
    r.set_request_id(request_id);
    return r;
  }

  // The first job of the server in `state`, waiting up to 10 s.
  static v1::Job WaitForJob(v1::ArcSolver::Stub& stub, v1::JobState state) {
    v1::Job found;
    EXPECT_TRUE(WaitFor([&] {
      grpc::ClientContext ctx;
      v1::ListJobsRequest req;
      req.set_state(state);
      v1::ListJobsResponse resp;
      if (!stub.ListJobs(&ctx, req, &resp).ok() || resp.jobs_size() == 0) return false;
      found = resp.jobs(0);
      return true;
    })) << "no job in state "
        << v1::JobState_Name(state);
    return found;
  }

  static inline std::string* dir_ = nullptr;
  static inline std::string* model_dir_ = nullptr;
};

void ExpectSameResult(const SolveResult& offline, const v1::SolveResponse& served) {
  ASSERT_EQ(served.predictions_size(), static_cast<int>(offline.tests.size()));
  for (size_t t = 0; t < offline.tests.size(); ++t) {
    const TestResult& want = offline.tests[t];
    const v1::TestPrediction& got = served.predictions(static_cast<int>(t));
    EXPECT_EQ(got.num_views(), want.num_views);
    EXPECT_EQ(got.invalid_outputs(), want.invalid_outputs);
    ASSERT_EQ(got.candidates_size(), static_cast<int>(want.candidates.size()));
    for (size_t c = 0; c < want.candidates.size(); ++c) {
      const v1::Candidate& gc = got.candidates(static_cast<int>(c));
      EXPECT_EQ(GridFromProto(gc.grid(), "grid", TaskLimits{}).value(), want.candidates[c].grid)
          << "candidate " << c;
      EXPECT_EQ(gc.votes(), want.candidates[c].votes) << "candidate " << c;
      EXPECT_EQ(std::vector<std::string>(gc.views().begin(), gc.views().end()),
                want.candidates[c].views);
    }
    const Attempts attempts = offline.AttemptsFor(static_cast<int>(t));
    EXPECT_EQ(GridFromProto(got.attempt_1(), "a1", TaskLimits{}).value(), attempts.attempt_1);
    EXPECT_EQ(GridFromProto(got.attempt_2(), "a2", TaskLimits{}).value(), attempts.attempt_2);
  }
  EXPECT_EQ(served.task_hash(), offline.task_hash);
  EXPECT_EQ(served.ttt().steps(), offline.train_stats.steps);
  EXPECT_EQ(served.ttt().samples(), offline.train_stats.samples);
  EXPECT_DOUBLE_EQ(served.ttt().first_loss(), offline.train_stats.first_loss);
  EXPECT_DOUBLE_EQ(served.ttt().last_loss(), offline.train_stats.last_loss);
  EXPECT_EQ(served.prompt_tokens(), offline.prompt_tokens);
  EXPECT_EQ(served.generated_tokens(), offline.generated_tokens);
}

TEST_F(ServerTest, SolveAndSolveStreamGiveTheOfflineSolversResult) {
  auto server = Serve(Options());
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  const Task task = SwapTask(3, 1);

  Solver solver(LoadArcModel(*model_dir_).value());
  absl::StatusOr<SolveResult> offline = solver.Solve(task, FastCoreOptions());
  ASSERT_TRUE(offline.ok()) << offline.status();
  ASSERT_EQ(offline->train_stats.steps, 4);

  v1::SolveResponse unary;
  {
    grpc::ClientContext ctx;
    const auto start = std::chrono::steady_clock::now();
    const grpc::Status s = stub->Solve(&ctx, Request(task), &unary);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(s.ok()) << s.error_message();
    std::printf("Solve round trip on the tiny model: %.1f ms (server total %.1f ms)\n", ms,
                unary.timings().total_seconds() * 1000);
  }
  ExpectSameResult(*offline, unary);
  EXPECT_EQ(unary.task_id(), "swap");
  EXPECT_FALSE(unary.job_id().empty());
  EXPECT_GT(unary.timings().total_seconds(), 0);
  EXPECT_GE(unary.timings().total_seconds(),
            unary.timings().ttt_train_seconds() + unary.timings().inference_seconds());

  // The stream: queued, the four phases in order, TTT steps, inference progress, the result.
  grpc::ClientContext ctx;
  auto reader = stub->SolveStream(&ctx, Request(task));
  std::vector<v1::SolveEvent> events;
  v1::SolveEvent e;
  while (reader->Read(&e)) events.push_back(e);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_GE(events.size(), 8u);
  EXPECT_TRUE(events.front().has_queued_position());
  EXPECT_EQ(events.front().queued_position(), 0);
  ASSERT_TRUE(events.back().has_result());
  ExpectSameResult(*offline, events.back().result());
  std::vector<v1::Phase> phases;
  std::vector<int> steps;
  int views_done = -1, views_total = 0;
  for (const v1::SolveEvent& ev : events) {
    EXPECT_EQ(ev.job_id(), events.back().result().job_id());
    if (ev.has_phase()) phases.push_back(ev.phase());
    if (ev.has_ttt_progress()) steps.push_back(ev.ttt_progress().step());
    if (ev.has_inference_progress()) {
      views_done = ev.inference_progress().views_done();
      views_total = ev.inference_progress().views_total();
    }
  }
  EXPECT_EQ(phases, (std::vector<v1::Phase>{v1::PHASE_TTT_DATA, v1::PHASE_TTT_TRAIN,
                                            v1::PHASE_INFERENCE, v1::PHASE_SELECTION}));
  // Progress that piles up behind the writer is coalesced: increasing steps, ending at the last.
  ASSERT_FALSE(steps.empty());
  EXPECT_TRUE(std::is_sorted(steps.begin(), steps.end()) &&
              std::adjacent_find(steps.begin(), steps.end()) == steps.end());
  EXPECT_EQ(steps.back(), 4);
  EXPECT_EQ(views_total, offline->tests[0].num_views);
  EXPECT_EQ(views_done, views_total);

  // task_json gives the same answer as the structured task.
  v1::SolveRequest json = Request(task);
  json.set_task_json(TaskToJson(task));
  v1::SolveResponse from_json;
  grpc::ClientContext ctx2;
  ASSERT_TRUE(stub->Solve(&ctx2, json, &from_json).ok());
  ExpectSameResult(*offline, from_json);
}

TEST_F(ServerTest, BadRequestsGetTheirCodeAndMessageAndTheServerCarriesOn) {
  ServerOptions o = Options();
  o.limits.ttt_steps = 500;
  o.max_message_bytes = 64 << 10;
  auto server = Serve(o);
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  const Task task = SwapTask(3, 2);
  struct Case {
    std::string name;
    std::function<void(v1::SolveRequest&)> mutate;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"malformed task_json", [](v1::SolveRequest& r) { r.set_task_json("{\"train\": [1, 2"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "task_json: invalid JSON at byte 16: syntax error while parsing array - unexpected end of "
       "input; expected ']'"},
      {"grid over 30",
       [](v1::SolveRequest& r) {
         v1::Grid* g = r.mutable_task()->mutable_train(0)->mutable_input();
         for (int i = 0; i < 28; ++i) g->add_rows("012");
       },
       grpc::StatusCode::INVALID_ARGUMENT, "task.train[0].input: 31 rows, limit 30"},
      {"colour 12",
       [](v1::SolveRequest& r) {
         r.set_task_json(
             "{\"train\": [{\"input\": [[1, 12]], \"output\": [[1, 2]]}], \"test\": [{\"input\": "
             "[[1, 1]]}]}");
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "task_json: train[0].input[0][1]: 12 is not a colour 0..9"},
      {"no test input", [](v1::SolveRequest& r) { r.mutable_task()->clear_test(); },
       grpc::StatusCode::INVALID_ARGUMENT, "task.test: no test inputs, need at least 1"},
      {"no task", [](v1::SolveRequest& r) { r.clear_task(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "task: required (set task or task_json)"},
      {"option above the limit",
       [](v1::SolveRequest& r) { r.mutable_options()->mutable_ttt_options()->set_max_steps(5000); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "options.ttt_options.max_steps: 5000 is above the server limit 500"},
      {"option out of range",
       [](v1::SolveRequest& r) { r.mutable_options()->mutable_inference()->set_batch_size(0); },
       grpc::StatusCode::INVALID_ARGUMENT, "options.inference.batch_size: 0 is outside 1..64"},
      {"message over the limit",
       [](v1::SolveRequest& r) { r.set_task_id(std::string(100 << 10, 'x')); },
       grpc::StatusCode::RESOURCE_EXHAUSTED, ""},  // gRPC's own message, see below
      {"request_id too long", [](v1::SolveRequest& r) { r.set_request_id(std::string(129, 'r')); },
       grpc::StatusCode::INVALID_ARGUMENT, "request_id: 129 bytes, limit 128"},
  };
  for (const Case& c : cases) {
    v1::SolveRequest r = Request(task);
    c.mutate(r);
    const std::string message = c.message.empty()
                                    ? "Received message larger than max (" +
                                          std::to_string(r.ByteSizeLong()) + " vs. 65536)"
                                    : c.message;
    // Unary, stream and submit refuse alike.
    grpc::ClientContext ctx;
    v1::SolveResponse resp;
    const grpc::Status s = stub->Solve(&ctx, r, &resp);
    EXPECT_EQ(s.error_code(), c.code) << c.name;
    EXPECT_EQ(s.error_message(), message) << c.name;
    grpc::ClientContext sctx;
    auto reader = stub->SolveStream(&sctx, r);
    v1::SolveEvent e;
    EXPECT_FALSE(reader->Read(&e)) << c.name;
    const grpc::Status ss = reader->Finish();
    EXPECT_EQ(ss.error_code(), c.code) << c.name;
    EXPECT_EQ(ss.error_message(), message) << c.name;
    grpc::ClientContext jctx;
    v1::Job job;
    EXPECT_EQ(stub->SubmitTask(&jctx, r, &job).error_code(), c.code) << c.name;
  }
  // Unknown jobs.
  grpc::ClientContext gctx;
  v1::GetJobRequest get;
  get.set_job_id("job-nope");
  v1::Job job;
  const grpc::Status nf = stub->GetJob(&gctx, get, &job);
  EXPECT_EQ(nf.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(nf.error_message(), "job_id: no job \"job-nope\" (unknown or expired)");

  // Bytes that are no SolveRequest at all: refused by gRPC itself, before any handler (its callback
  // API answers an unparsable request with an empty UNIMPLEMENTED).
  std::string ignored;
  const grpc::Status garbage = arc::testing::RawUnaryCall(server->port(), "/arc.v1.ArcSolver/Solve",
                                                          "\xff\xff\xff", &ignored);
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(garbage.error_message(), "");

  // Nothing was queued, and the next request is served normally.
  EXPECT_EQ(server->jobs().queued() + server->jobs().running(), 0);
  grpc::ClientContext ok_ctx;
  v1::SolveResponse ok;
  const grpc::Status s = stub->Solve(&ok_ctx, Request(task), &ok);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ok.predictions_size(), 1);
  const std::string metrics = server->metrics().Serialize();
  // Counted by method and code (the oversized message never reached a handler).
  EXPECT_EQ(MetricValue(metrics, "arc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Solve\"}"),
            8);
  EXPECT_EQ(MetricValue(metrics, "arc_requests_total{code=\"OK\",method=\"Solve\"}"), 1);
  EXPECT_EQ(MetricValue(metrics, "arc_requests_total{code=\"NOT_FOUND\",method=\"GetJob\"}"), 1);
}

TEST_F(ServerTest, FullQueueAnswersResourceExhaustedWithARetryDelay) {
  ServerOptions o = Options();
  o.workers = 1;
  o.queue_capacity = 1;
  auto server = Serve(o);
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  v1::Job running, queued;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->SubmitTask(&ctx, LongRequest("long-1"), &running).ok());
  }
  EXPECT_EQ(WaitForJob(*stub, v1::JOB_STATE_RUNNING).job_id(), running.job_id());
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->SubmitTask(&ctx, LongRequest("long-2"), &queued).ok());
    EXPECT_EQ(queued.state(), v1::JOB_STATE_QUEUED);
  }
  grpc::ClientContext ctx;
  v1::SolveResponse resp;
  const grpc::Status s = stub->Solve(&ctx, Request(SwapTask(3, 1)), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(),
            "queue full: 1 jobs waiting (capacity 1), 1 running; retry after 1000 ms");
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find("retry-after-ms");
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "1000");
  // A retry of an admitted request is not refused: it is the same job.
  grpc::ClientContext again;
  v1::Job same;
  ASSERT_TRUE(stub->SubmitTask(&again, LongRequest("long-2"), &same).ok());
  EXPECT_EQ(same.job_id(), queued.job_id());
  for (const v1::Job& j : {queued, running}) {
    grpc::ClientContext c;
    v1::CancelJobRequest req;
    req.set_job_id(j.job_id());
    v1::Job after;
    ASSERT_TRUE(stub->CancelJob(&c, req, &after).ok());
  }
  EXPECT_TRUE(WaitFor([&] { return server->jobs().running() + server->jobs().queued() == 0; }));
  EXPECT_EQ(MetricValue(server->metrics().Serialize(),
                        "arc_requests_total{code=\"RESOURCE_EXHAUSTED\",method=\"Solve\"}"),
            1);
}

TEST_F(ServerTest, DeadlineCancelsTheJobAndFreesItsResources) {
  auto server = Serve(Options());
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  v1::SolveResponse resp;
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status s = stub->Solve(&ctx, LongRequest("deadline"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The worker stops within a training step: nothing runs, no adapter stays allocated.
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string m = server->metrics().Serialize();
        return MetricValue(m, "arc_jobs_in_flight") == 0 &&
               MetricValue(m, "arc_adapters_resident") == 0;
      },
      5));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 3.0);
  const v1::Job job = WaitForJob(*stub, v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(job.request_id(), "deadline");
  EXPECT_EQ(job.error().code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_EQ(job.error().message(), "the caller's deadline passed");
  const std::string m = server->metrics().Serialize();
  EXPECT_EQ(MetricValue(m, "arc_jobs_total{outcome=\"deadline_exceeded\"}"), 1);
  EXPECT_GT(MetricValue(m, "arc_ttt_steps_total"), 0);  // it did train before it was stopped
  EXPECT_EQ(MetricValue(m, "arc_queue_depth"), 0);
}

TEST_F(ServerTest, CancelJobCancelsAWaitingSolveAndWatchersSeeIt) {
  auto server = Serve(Options());
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  grpc::Status solve_status;
  std::thread caller([&] {
    grpc::ClientContext ctx;
    v1::SolveResponse resp;
    solve_status = stub->Solve(&ctx, LongRequest("to-cancel"), &resp);
  });
  const v1::Job running = WaitForJob(*stub, v1::JOB_STATE_RUNNING);
  EXPECT_EQ(running.request_id(), "to-cancel");
  // A watcher from now on: the current phase first, the cancellation last, status OK.
  grpc::ClientContext wctx;
  v1::WatchJobRequest watch;
  watch.set_job_id(running.job_id());
  auto reader = stub->WatchJob(&wctx, watch);
  v1::SolveEvent first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_TRUE(first.has_phase() || first.has_ttt_progress() || first.has_queued_position());

  grpc::ClientContext cctx;
  v1::CancelJobRequest cancel;
  cancel.set_job_id(running.job_id());
  v1::Job after;
  ASSERT_TRUE(stub->CancelJob(&cctx, cancel, &after).ok());
  EXPECT_EQ(after.job_id(), running.job_id());
  caller.join();
  EXPECT_EQ(solve_status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(solve_status.error_message(), "cancelled by CancelJob");
  v1::SolveEvent e, last;
  while (reader->Read(&e)) last = e;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(last.error().code(), static_cast<int>(grpc::StatusCode::CANCELLED));

  grpc::ClientContext gctx;
  v1::GetJobRequest get;
  get.set_job_id(running.job_id());
  v1::Job job;
  ASSERT_TRUE(stub->GetJob(&gctx, get, &job).ok());
  EXPECT_EQ(job.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(job.error().message(), "cancelled by CancelJob");
  EXPECT_GT(job.finished_unix_ms(), 0);
  EXPECT_EQ(MetricValue(server->metrics().Serialize(), "arc_jobs_total{outcome=\"cancelled\"}"), 1);
}

TEST_F(ServerTest, SameRequestIdGetsTheSameJob) {
  auto server = Serve(Options());
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  v1::SolveRequest r = Request(SwapTask(3, 4));
  r.set_request_id("idem-1");
  v1::Job submitted, again;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->SubmitTask(&ctx, r, &submitted).ok());
  }
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->SubmitTask(&ctx, r, &again).ok());
  }
  EXPECT_EQ(again.job_id(), submitted.job_id());
  EXPECT_EQ(submitted.request_id(), "idem-1");
  v1::SolveResponse solved;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Solve(&ctx, r, &solved).ok());
  }
  EXPECT_EQ(solved.job_id(), submitted.job_id());
  // The id also comes as x-request-id metadata (ghz: -m '{"x-request-id": ...}').
  v1::SolveRequest bare = Request(SwapTask(3, 4));
  v1::Job via_metadata;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-request-id", "idem-1");
    ASSERT_TRUE(stub->SubmitTask(&ctx, bare, &via_metadata).ok());
  }
  EXPECT_EQ(via_metadata.job_id(), submitted.job_id());
  // Another task under the same id is a client bug.
  v1::SolveRequest other = Request(SwapTask(3, 99));
  other.set_request_id("idem-1");
  grpc::ClientContext ctx;
  v1::Job refused;
  const grpc::Status s = stub->SubmitTask(&ctx, other, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      s.error_message().rfind("request_id: \"idem-1\" belongs to job " + submitted.job_id(), 0), 0u)
      << s.error_message();
  // GetJob has the result; ListJobs lists it once.
  grpc::ClientContext gctx;
  v1::GetJobRequest get;
  get.set_job_id(submitted.job_id());
  v1::Job job;
  ASSERT_TRUE(stub->GetJob(&gctx, get, &job).ok());
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job.result().predictions(0).candidates_size(), solved.predictions(0).candidates_size());
  grpc::ClientContext lctx;
  v1::ListJobsResponse list;
  ASSERT_TRUE(stub->ListJobs(&lctx, v1::ListJobsRequest(), &list).ok());
  ASSERT_EQ(list.jobs_size(), 1);
  EXPECT_FALSE(list.jobs(0).has_result());
}

TEST_F(ServerTest, HealthFollowsReadinessAndDraining) {
  absl::StatusOr<std::unique_ptr<ArcServer>> started = ArcServer::Start(Options());
  ASSERT_TRUE(started.ok()) << started.status();
  ArcServer& server = **started;
  auto stub = Connect(server.port());
  constexpr int kServing = 1, kNotServing = 2;
  EXPECT_EQ(HealthStatus(server.port()), kNotServing);
  EXPECT_EQ(HealthStatus(server.port(), "arc.v1.ArcSolver"), kNotServing);
  EXPECT_EQ(HealthStatus(server.port(), "liveness"), kServing);
  {
    grpc::ClientContext ctx;
    v1::SolveResponse resp;
    const grpc::Status s = stub->Solve(&ctx, Request(SwapTask(3, 1)), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(), "server is not ready: the model is loading");
    grpc::ClientContext ictx;
    v1::ServerInfo info;
    EXPECT_EQ(stub->GetServerInfo(&ictx, v1::GetServerInfoRequest(), &info).error_code(),
              grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(MetricValue(server.metrics().Serialize(), "arc_serving"), 0);
  }
  ASSERT_TRUE(server.LoadModel().ok());
  EXPECT_EQ(HealthStatus(server.port()), kServing);
  EXPECT_EQ(HealthStatus(server.port(), "arc.v1.ArcSolver"), kServing);
  {
    grpc::ClientContext ctx;
    v1::ServerInfo info;
    ASSERT_TRUE(stub->GetServerInfo(&ctx, v1::GetServerInfoRequest(), &info).ok());
    EXPECT_EQ(info.model_name(), "tiny-server");
    EXPECT_EQ(info.prompt_format(), "compact");
    EXPECT_EQ(info.device(), "cpu");
    EXPECT_EQ(info.context_tokens(), 512);
    EXPECT_GT(info.parameters(), 0);
    EXPECT_EQ(info.defaults().ttt_options().max_samples(), 250);
    EXPECT_EQ(info.max_message_bytes(), 4 << 20);
    EXPECT_NE(info.limits().find("ttt_options.max_steps <= 1000000"), std::string::npos)
        << info.limits();
  }
  v1::Job done;
  {
    grpc::ClientContext ctx;
    v1::SolveResponse resp;
    ASSERT_TRUE(stub->Solve(&ctx, Request(SwapTask(3, 1)), &resp).ok());
    done.set_job_id(resp.job_id());
  }
  server.BeginDrain();
  EXPECT_EQ(HealthStatus(server.port()), kNotServing);
  EXPECT_EQ(HealthStatus(server.port(), "liveness"), kServing);
  {
    grpc::ClientContext ctx;
    v1::Job job;
    const grpc::Status s = stub->SubmitTask(&ctx, Request(SwapTask(3, 2)), &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(), "server is draining: not accepting new jobs");
    // Finished jobs can still be fetched while draining.
    grpc::ClientContext gctx;
    v1::GetJobRequest get;
    get.set_job_id(done.job_id());
    EXPECT_TRUE(stub->GetJob(&gctx, get, &job).ok());
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  }
  server.Shutdown();
  EXPECT_LT(HealthStatus(server.port()), 0);  // gone
}

TEST_F(ServerTest, MetricsEndpointHasEveryFamilyAfterASolve) {
  auto server = Serve(Options());
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->metrics_port(), 0);
  auto stub = Connect(server->port());
  grpc::ClientContext ctx;
  v1::SolveResponse resp;
  ASSERT_TRUE(stub->Solve(&ctx, Request(SwapTask(3, 6)), &resp).ok());
  const std::string http = HttpGet(server->metrics_port(), "/metrics");
  ASSERT_EQ(http.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << http.substr(0, 200);
  EXPECT_NE(http.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  const std::string m = http.substr(http.find("\r\n\r\n") + 4);
  for (const char* family : {"arc_requests_total",
                             "arc_request_duration_seconds",
                             "arc_phase_duration_seconds",
                             "arc_job_duration_seconds",
                             "arc_jobs_total",
                             "arc_queue_depth",
                             "arc_queue_capacity",
                             "arc_jobs_in_flight",
                             "arc_workers",
                             "arc_adapters_resident",
                             "arc_ttt_steps_total",
                             "arc_ttt_tokens_total",
                             "arc_ttt_samples_total",
                             "arc_ttt_last_loss",
                             "arc_prompt_tokens_total",
                             "arc_generated_tokens_total",
                             "arc_model_parameters",
                             "arc_serving",
                             "arc_build_info",
                             "arc_model_info",
                             "process_cpu_seconds_total",
                             "process_resident_memory_bytes",
                             "process_virtual_memory_bytes",
                             "process_start_time_seconds",
                             "process_open_fds",
                             "process_threads"}) {
    EXPECT_NE(m.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_EQ(MetricValue(m, "arc_requests_total{code=\"OK\",method=\"Solve\"}"), 1);
  EXPECT_EQ(MetricValue(m, "arc_request_duration_seconds_count{method=\"Solve\"}"), 1);
  EXPECT_EQ(MetricValue(m, "arc_jobs_total{outcome=\"succeeded\"}"), 1);
  EXPECT_EQ(MetricValue(m, "arc_ttt_steps_total"), resp.ttt().steps());
  EXPECT_EQ(MetricValue(m, "arc_ttt_tokens_total"), resp.ttt().tokens());
  EXPECT_EQ(MetricValue(m, "arc_ttt_samples_total"), resp.ttt().samples());
  EXPECT_DOUBLE_EQ(MetricValue(m, "arc_ttt_last_loss"), resp.ttt().last_loss());
  EXPECT_EQ(MetricValue(m, "arc_prompt_tokens_total"), resp.prompt_tokens());
  EXPECT_EQ(MetricValue(m, "arc_generated_tokens_total"), resp.generated_tokens());
  for (const char* phase : {"queue", "ttt_data", "ttt_train", "inference", "selection"}) {
    EXPECT_EQ(
        MetricValue(m, std::string("arc_phase_duration_seconds_count{phase=\"") + phase + "\"}"), 1)
        << phase;
  }
  EXPECT_EQ(MetricValue(m, "arc_phase_duration_seconds_bucket{phase=\"ttt_train\",le=\"600\"}"), 1);
  EXPECT_EQ(MetricValue(m, "arc_jobs_in_flight"), 0);
  EXPECT_EQ(MetricValue(m, "arc_adapters_resident"), 0);
  EXPECT_EQ(MetricValue(m, "arc_workers"), 1);
  EXPECT_EQ(MetricValue(m, "arc_queue_capacity"), 16);
  EXPECT_EQ(MetricValue(m, "arc_serving"), 1);
  EXPECT_EQ(MetricValue(m, "arc_model_parameters"),
            LoadArcModel(*model_dir_).value()->NumParameters());
  EXPECT_NE(m.find("arc_build_info{grpc=\""), std::string::npos);
  EXPECT_NE(m.find("arc_model_info{device=\"cpu\",format=\"compact\",model=\"tiny-server\"} 1"),
            std::string::npos);
  EXPECT_GT(MetricValue(m, "process_resident_memory_bytes"), 10e6);
  EXPECT_GT(MetricValue(m, "process_cpu_seconds_total"), 0);
  EXPECT_GT(MetricValue(m, "process_open_fds"), 3);
  EXPECT_GT(MetricValue(m, "process_start_time_seconds"), 1.6e9);
  EXPECT_EQ(m.find("arc_cuda_memory"), std::string::npos);  // CPU device: no CUDA gauges
  EXPECT_EQ(HttpGet(server->metrics_port(), "/other").rfind("HTTP/1.1 404 Not Found", 0), 0u);
}

TEST_F(ServerTest, ShutdownCancelsWhatOutlastsTheDrainTimeout) {
  ServerOptions o = Options();
  o.drain_timeout = absl::Milliseconds(300);
  auto server = Serve(o);
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  grpc::Status status;
  std::thread caller([&] {
    grpc::ClientContext ctx;
    v1::SolveResponse resp;
    status = stub->Solve(&ctx, LongRequest("outlasts"), &resp);
  });
  WaitForJob(*stub, v1::JOB_STATE_RUNNING);
  const auto start = std::chrono::steady_clock::now();
  server->Shutdown();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(),
            "server shutting down: the job was cancelled at the drain timeout");
  EXPECT_GE(seconds, 0.3);
  EXPECT_LT(seconds, 1.5);
}

// The path grpcurl and ghz take: a reflection client (Node's @grpc/grpc-js and
// grpc-js-reflection-client, installed by the setup script) discovers ArcSolver without a .proto
// file and calls Solve with a request built from JSON; the answer equals the C++ stub's.
TEST_F(ServerTest, ReflectionClientDiscoversTheServiceAndSolves) {
  const std::string modules = std::string(ARC_SOURCE_DIR) + "/third_party_npm/node_modules";
  if (std::system("node --version > /dev/null 2>&1") != 0 ||
      !std::filesystem::exists(modules + "/grpc-js-reflection-client")) {
    GTEST_SKIP() << "node or the npm packages under third_party_npm are missing";
  }
  auto server = Serve(Options());
  ASSERT_NE(server, nullptr);
  const Task task = SwapTask(3, 12);
  const std::string task_path = *dir_ + "/reflection_task.json";
  ASSERT_TRUE(WriteFileAtomic(task_path, TaskToJson(task)).ok());
  const std::string out = *dir_ + "/reflection_out.txt";
  const std::string cmd =
      "NODE_PATH=" + modules + " node " + ARC_SOURCE_DIR +
      "/tests/server_reflection_check.js 127.0.0.1:" + std::to_string(server->port()) + " " +
      task_path + " > " + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string text = ReadFile(out).value_or("");
  ASSERT_EQ(rc, 0) << text;
  const nlohmann::json j = nlohmann::json::parse(text);
  std::vector<std::string> services = j["services"];
  for (const char* name :
       {"arc.v1.ArcSolver", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_NE(std::find(services.begin(), services.end(), name), services.end()) << name;
  }
  EXPECT_EQ(j["ttt_steps"], 2);
  // The same request as a fresh job through the C++ stub gives the same attempt.
  v1::SolveRequest r;
  r.set_request_id("reflection-2");
  r.set_task_json(TaskToJson(task));
  v1::SolveOptions* o = r.mutable_options();
  o->set_seed(3);
  o->set_experts(v1::EXPERTS_TTT);  // as the reflection client's request: the TTT expert alone
  o->mutable_ttt_options()->set_max_samples(4);
  o->mutable_ttt_options()->set_augment(false);
  o->mutable_ttt_options()->set_permute_n(0);
  o->mutable_ttt_options()->set_max_steps(2);
  o->mutable_inference()->set_permutations(0);
  o->mutable_inference()->set_transforms(v1::VIEW_TRANSFORMS_NONE);
  o->mutable_inference()->set_batch_size(4);
  grpc::ClientContext ctx;
  v1::SolveResponse resp;
  ASSERT_TRUE(Connect(server->port())->Solve(&ctx, r, &resp).ok());
  EXPECT_NE(resp.job_id(), j["job_id"]);
  const std::vector<std::string> rows(resp.predictions(0).attempt_1().rows().begin(),
                                      resp.predictions(0).attempt_1().rows().end());
  EXPECT_EQ(rows, j["attempt_1"].get<std::vector<std::string>>());
}

TEST_F(ServerTest, ConcurrentSolvesAllSucceedWithTheSameAnswer) {
  ServerOptions o = Options();
  o.workers = 2;
  auto server = Serve(o);
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->port());
  constexpr int kCalls = 8;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::SolveResponse> responses(kCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      grpc::ClientContext ctx;
      if (i % 2 == 0) {
        statuses[i] = stub->Solve(&ctx, Request(SwapTask(3, 1)), &responses[i]);
      } else {
        auto reader = stub->SolveStream(&ctx, Request(SwapTask(3, 1)));
        v1::SolveEvent e;
        while (reader->Read(&e)) {
          if (e.has_result()) responses[i] = e.result();
        }
        statuses[i] = reader->Finish();
      }
    });
  }
  for (std::thread& t : callers) t.join();
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    EXPECT_EQ(responses[i].predictions(0).attempt_1().rows(0),
              responses[0].predictions(0).attempt_1().rows(0));
    EXPECT_EQ(responses[i].ttt().last_loss(), responses[0].ttt().last_loss()) << i;
  }
  const std::string m = server->metrics().Serialize();
  EXPECT_EQ(MetricValue(m, "arc_jobs_total{outcome=\"succeeded\"}"), kCalls);
  EXPECT_EQ(MetricValue(m, "arc_jobs_in_flight"), 0);
  EXPECT_EQ(MetricValue(m, "arc_queue_depth"), 0);
}

}  // namespace
}  // namespace arc::server
