// Server parts without a model or a network: proto conversion (tasks, options, limits), status
// conversion, the logger, and the JobManager driven by a fake worker.
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "core/data/task_io.h"
#include "gtest/gtest.h"
#include "core/data/file_util.h"
#include "core/model/arc_model.h"
#include "server/admission.h"
#include "server/auth.h"
#include "server/job_manager.h"
#include "server/logger.h"
#include "server/metrics.h"
#include "server/proto_conversion.h"
#include "server/server_options.h"
#include "server/status_conversion.h"
#include "tests/server_test_util.h"

namespace arc::server {
namespace {

using ::arc::testing::SwapTask;

v1::SolveRequest Request(const Task& task) {
  v1::SolveRequest r;
  *r.mutable_task() = TaskToProto(task);
  r.set_task_id(task.id);
  return r;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ProtoConversionTest, TaskRoundTripsAndJsonMatchesStructured) {
  const Task task = SwapTask(3, 1);
  absl::StatusOr<Task> back = TaskFromRequest(Request(task), TaskLimits{});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, task);
  EXPECT_EQ(back->id, "swap");
  v1::SolveRequest json;
  json.set_task_json(TaskToJson(task));
  json.set_task_id("swap");
  absl::StatusOr<Task> parsed = TaskFromRequest(json, TaskLimits{});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, task);
  EXPECT_EQ(GridToProto(task.train[0].input).rows_size(), 3);
}

TEST(ProtoConversionTest, TaskFaultsNameTheirPath) {
  const Task task = SwapTask(3, 1);
  struct Case {
    std::function<void(v1::SolveRequest&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::SolveRequest& r) { r.clear_task(); }, "task: required (set task or task_json)"},
      {[](v1::SolveRequest& r) {
         r.mutable_task()->mutable_train(1)->mutable_input()->set_rows(1, "01");
       },
       "task.train[1].input: row 1 has 2 cells, expected 3"},
      {[](v1::SolveRequest& r) {
         r.mutable_task()->mutable_train(0)->mutable_output()->set_rows(2, "0a1");
       },
       "task.train[0].output.rows[2]: character 1 is not a colour digit 0..9"},
      {[](v1::SolveRequest& r) {
         v1::Grid* g = r.mutable_task()->mutable_test(0)->mutable_input();
         g->clear_rows();
         for (int i = 0; i < 31; ++i) g->add_rows("000");
       },
       "task.test[0].input: 31 rows, limit 30"},
      {[](v1::SolveRequest& r) {
         r.mutable_task()->mutable_train(2)->mutable_input()->set_rows(0, std::string(31, '1'));
       },
       "task.train[2].input: 31 columns, limit 30"},
      {[](v1::SolveRequest& r) { r.mutable_task()->clear_test(); },
       "task.test: no test inputs, need at least 1"},
      {[](v1::SolveRequest& r) { r.mutable_task()->clear_train(); },
       "task.train: no demonstrations, need at least 1"},
      {[](v1::SolveRequest& r) { r.mutable_task()->mutable_train(0)->clear_output(); },
       "task.train[0].output: required"},
      {[](v1::SolveRequest& r) {
         r.mutable_task()->mutable_train(0)->mutable_input()->clear_rows();
       },
       "task.train[0].input: empty grid"},
      {[](v1::SolveRequest& r) {
         r.set_task_json(
             "{\"train\": [{\"input\": [[12]], \"output\": [[1]]}], \"test\": [{\"input\": "
             "[[1]]}]}");
       },
       "task_json: train[0].input[0][0]: 12 is not a colour 0..9"},
      {[](v1::SolveRequest& r) { r.set_task_json("{\"train\": []}"); },
       "task_json: missing key \"test\""},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    v1::SolveRequest r = Request(task);
    cases[i].mutate(r);
    absl::StatusOr<Task> t = TaskFromRequest(r, TaskLimits{});
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << "case " << i;
    EXPECT_EQ(Message(t.status()), cases[i].message) << "case " << i;
  }
}

TEST(ProtoConversionTest, OptionsOverrideDefaultsWithinLimits) {
  SolveOptions defaults;
  defaults.train.max_steps = 10;
  OptionLimits limits;
  limits.ttt_steps = 500;
  limits.views = 32;
  v1::SolveOptions req;
  // Unset fields keep the defaults; "epochs decide" (0) is capped at the step limit.
  absl::StatusOr<SolveOptions> o = ResolveSolveOptions(req, defaults, limits);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->train.max_steps, 10);
  EXPECT_EQ(o->views.max_views, 32);
  EXPECT_EQ(o->ttt_data.max_samples, 250);
  EXPECT_FALSE(o->selection.base_attempt);
  req = arc::testing::FastProtoOptions(7, 11);
  req.mutable_ttt_options()->add_lora_targets("k_proj");
  req.mutable_ttt_options()->add_lora_targets("lm_head");
  req.set_selection(v1::SELECTION_MODE_POE);
  req.set_include_views(true);
  req.set_base_attempt(true);
  o = ResolveSolveOptions(req, defaults, limits);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->train.max_steps, 7);
  EXPECT_EQ(o->seed, 11u);
  EXPECT_EQ(o->ttt_data.max_samples, 8);
  EXPECT_FALSE(o->ttt_data.augment);
  EXPECT_EQ(o->views.transforms, PaperViewTransforms());
  EXPECT_EQ(o->lora.targets,
            (std::vector<ProjectionKind>{ProjectionKind::kK, ProjectionKind::kLmHead}));
  EXPECT_EQ(o->selection.mode, SelectionMode::kPoe);
  EXPECT_TRUE(o->include_views);
  EXPECT_TRUE(o->selection.base_attempt);
  req.mutable_ttt_options()->set_max_steps(0);
  EXPECT_EQ(ResolveSolveOptions(req, defaults, limits)->train.max_steps, 500);
}

TEST(ProtoConversionTest, OptionFaultsNameTheFieldAndTheLimit) {
  OptionLimits limits;
  limits.ttt_steps = 500;
  limits.inference_batch_size = 64;
  struct Case {
    std::function<void(v1::SolveOptions&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::SolveOptions& o) { o.mutable_ttt_options()->set_max_steps(5000); },
       "options.ttt_options.max_steps: 5000 is above the server limit 500"},
      {[](v1::SolveOptions& o) { o.mutable_ttt_options()->set_max_steps(-1); },
       "options.ttt_options.max_steps: -1 is outside 0..500"},
      {[](v1::SolveOptions& o) { o.mutable_inference()->set_batch_size(0); },
       "options.inference.batch_size: 0 is outside 1..64"},
      {[](v1::SolveOptions& o) { o.mutable_inference()->set_batch_size(100); },
       "options.inference.batch_size: 100 is above the server limit 64"},
      {[](v1::SolveOptions& o) { o.mutable_ttt_options()->set_learning_rate(2); },
       "options.ttt_options.learning_rate: 2 is outside 0..1"},
      {[](v1::SolveOptions& o) { o.mutable_ttt_options()->set_max_samples(100001); },
       "options.ttt_options.max_samples: 100001 is above the server limit 1000"},
      {[](v1::SolveOptions& o) { o.mutable_ttt_options()->add_lora_targets("x_proj"); },
       "options.ttt_options.lora_targets[0]: \"x_proj\" is not one of q_proj, k_proj, v_proj, "
       "o_proj, gate_proj, up_proj, down_proj, lm_head"},
      {[](v1::SolveOptions& o) {
         o.mutable_ttt_options()->add_lora_targets("q_proj");
         o.mutable_ttt_options()->add_lora_targets("q_proj");
       },
       "options.ttt_options.lora_targets[1]: \"q_proj\" is listed twice"},
      {[](v1::SolveOptions& o) {
         o.mutable_inference()->set_transforms(static_cast<v1::ViewTransforms>(9));
       },
       "options.inference.transforms: 9 is not a ViewTransforms value"},
      {[](v1::SolveOptions& o) { o.set_poe_views(9); }, "options.poe_views: 9 is outside 1..8"},
      {[](v1::SolveOptions& o) { o.mutable_ttt_options()->set_lora_dropout(1); },
       "options.ttt_options.lora_dropout: 1 is outside [0, 1)"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    v1::SolveOptions req;
    cases[i].mutate(req);
    absl::StatusOr<SolveOptions> o = ResolveSolveOptions(req, SolveOptions{}, limits);
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << "case " << i;
    EXPECT_EQ(Message(o.status()), cases[i].message) << "case " << i;
  }
}

TEST(ProtoConversionTest, DefaultsGoOutWithEveryFieldSet) {
  const v1::SolveOptions p = SolveOptionsToProto(SolveOptions{});
  EXPECT_TRUE(p.has_ttt() && p.ttt());
  EXPECT_EQ(p.ttt_options().max_samples(), 250);
  EXPECT_EQ(p.ttt_options().lora_targets_size(), 5);
  EXPECT_EQ(p.inference().transforms(), v1::VIEW_TRANSFORMS_PAPER);
  EXPECT_EQ(p.selection(), v1::SELECTION_MODE_VOTE);
  EXPECT_TRUE(p.has_base_attempt() && !p.base_attempt());
  // And they read back as the same options.
  absl::StatusOr<SolveOptions> back = ResolveSolveOptions(p, SolveOptions{}, OptionLimits{});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->lora.targets, DefaultTttLora().targets);
}

TEST(StatusConversionTest, CodesMessagesAndRetryHints) {
  for (int c = 0; c <= 16; ++c) {
    const absl::Status s(static_cast<absl::StatusCode>(c), c == 0 ? "" : "why");
    const grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), c);
    EXPECT_EQ(FromGrpcStatus(g), s);
  }
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("task.test: x")).error_message(),
            "task.test: x");
  absl::Status s = absl::ResourceExhaustedError("queue full");
  EXPECT_FALSE(GetRetryAfter(s).has_value());
  SetRetryAfter(s, absl::Milliseconds(1500));
  EXPECT_EQ(*GetRetryAfter(s), absl::Milliseconds(1500));
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
}

TEST(LoggerTest, LinesAreLogfmtAndFiltered) {
  std::vector<std::string> lines;
  SetLogSinkForTesting([&lines](const std::string& l) { lines.push_back(l); });
  SetLogLevel(LogLevel::kInfo);
  LogLine(LogLevel::kDebug, "hidden").Add("k", 1);
  LogLine(LogLevel::kInfo, "job_done")
      .Add("job_id", "j-1")
      .Add("error", "a \"b\"=c")
      .Add("n", 3)
      .Add("x", 0.5)
      .Add("ok", true);
  SetLogSinkForTesting(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(
                " level=info event=job_done job_id=j-1 error=\"a \\\"b\\\"=c\" n=3 x=0.5 ok=true"),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[0].rfind("ts=", 0), 0u);
  EXPECT_EQ(LogfmtValue(""), "\"\"");
  EXPECT_EQ(ParseLogLevel("WARN").value(), LogLevel::kWarning);
  EXPECT_EQ(Message(ParseLogLevel("loud").status()),
            "log level: \"loud\" is not one of debug, info, warning, error");
}

TEST(ServerOptionsTest, DefaultsMustLieWithinLimits) {
  ServerOptions o;
  EXPECT_TRUE(ValidateServerOptions(o).ok());
  o.defaults.train.max_steps = 2000;
  EXPECT_EQ(Message(ValidateServerOptions(o)),
            "--ttt_max_steps: the default 2000 is above --limit_ttt_steps 1000");
  o = ServerOptions{};
  o.device = "gpu";
  EXPECT_EQ(Message(ValidateServerOptions(o)), "--device: \"gpu\" is not one of cpu, cuda, cuda:N");
  o = ServerOptions{};
  o.queue_capacity = 0;
  EXPECT_EQ(Message(ValidateServerOptions(o)), "--queue_capacity: 0 is outside 1..1000000");
  o = ServerOptions{};
  o.limits.search_work = 0;
  EXPECT_EQ(Message(ValidateServerOptions(o)), "--limit_search_work: 0 is outside 1..1000000");
  o = ServerOptions{};
  o.defaults.search.work_millions = 30000;
  EXPECT_EQ(Message(ValidateServerOptions(o)),
            "--search_work: the default 30000 is above --limit_search_work 20000");
}

// --- JobManager with a fake worker ---------------------------------------------------------

class Recorder final : public JobWatcher {
 public:
  void OnEvent(const v1::SolveEvent& e, bool last) override {
    absl::MutexLock lock(&mu);
    events.push_back(e);
    if (last) done = true;
  }
  absl::Mutex mu;
  std::vector<v1::SolveEvent> events;
  bool done = false;
};

JobSpec Spec(const std::string& request_id, uint64_t seed = 1) {
  JobSpec s;
  s.request_id = request_id;
  s.task = SwapTask(3, seed);
  return s;
}

SolveResult FakeResult(const Job& job) {
  SolveResult r;
  r.task_id = job.task().id;
  r.task_hash = job.task_hash();
  r.tests.resize(1);
  r.tests[0].candidates.push_back({*job.task().test[0].output, 5, {"s0/p0/identity"}, 0});
  r.train_stats.steps = 2;
  r.prompt_tokens = 100;
  r.generated_tokens = 10;
  return r;
}

TEST(JobManagerTest, QueueBoundsIdempotencyAndEvents) {
  Metrics metrics;
  JobManager jobs({/*queue_capacity=*/2, /*workers=*/1, absl::Minutes(1), 100}, &metrics);
  EXPECT_EQ(Message(jobs.Submit(Spec("a"), JobManager::Mode::kDetached).status()),
            "server is not ready: the model is loading");
  jobs.StartAdmitting();
  auto a = jobs.Submit(Spec("a"), JobManager::Mode::kDetached).value();
  auto b = jobs.Submit(Spec("b", 2), JobManager::Mode::kDetached).value();
  // Same request id, same job; another task under it is refused.
  EXPECT_EQ(jobs.Submit(Spec("a"), JobManager::Mode::kAttached).value(), a);
  absl::Status other = jobs.Submit(Spec("a", 9), JobManager::Mode::kDetached).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Message(other).rfind("request_id: \"a\" belongs to job " + a->id() + " for another task", 0),
      0u)
      << Message(other);
  // Full: two waiting, capacity two.
  absl::Status full = jobs.Submit(Spec(""), JobManager::Mode::kDetached).status();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Message(full),
            "queue full: 2 jobs waiting (capacity 2), 0 running; retry after 1000 ms");
  EXPECT_EQ(*GetRetryAfter(full), absl::Seconds(1));
  EXPECT_EQ(jobs.queued(), 2);

  auto watcher = std::make_shared<Recorder>();
  jobs.Watch(b, watcher);
  std::shared_ptr<Job> first = jobs.NextJob();
  ASSERT_EQ(first, a);
  EXPECT_EQ(a->ToProto(false).state(), v1::JOB_STATE_RUNNING);
  TttProgress p;
  p.step = 1;
  p.total_steps = 2;
  p.loss = 2.5;
  p.tokens = 40;
  jobs.OnPhase(a, SolvePhase::kTttTrain);
  jobs.OnTttStep(a, p);
  jobs.Finish(a, FakeResult(*a));
  const v1::Job done = a->ToProto(true);
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.result().predictions(0).candidates(0).votes(), 5);
  EXPECT_EQ(done.result().job_id(), a->id());
  EXPECT_GT(done.finished_unix_ms(), 0);
  EXPECT_DOUBLE_EQ(metrics.ttt_steps().Value(), 1);
  EXPECT_DOUBLE_EQ(metrics.ttt_last_loss().Value(), 2.5);
  EXPECT_DOUBLE_EQ(metrics.prompt_tokens().Value(), 100);

  // b: queued at 1, then 0 when a left the queue; cancelled while queued -> ends at once.
  jobs.Cancel(b, absl::CancelledError("cancelled by CancelJob"));
  {
    absl::MutexLock lock(&watcher->mu);
    ASSERT_EQ(watcher->events.size(), 3u);
    EXPECT_EQ(watcher->events[0].queued_position(), 1);
    EXPECT_EQ(watcher->events[1].queued_position(), 0);
    EXPECT_EQ(watcher->events[2].error().code(), static_cast<int>(absl::StatusCode::kCancelled));
    EXPECT_EQ(watcher->events[2].error().message(), "cancelled by CancelJob");
    EXPECT_TRUE(watcher->done);
  }
  EXPECT_EQ(b->ToProto(false).state(), v1::JOB_STATE_CANCELLED);
  // A cancelled job does not pin its request id.
  auto b2 = jobs.Submit(Spec("b", 2), JobManager::Mode::kDetached).value();
  EXPECT_NE(b2, b);
  // Newest first.
  std::vector<std::shared_ptr<Job>> listed = jobs.List(v1::JOB_STATE_UNSPECIFIED, 0, "anonymous");
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0], b2);
  EXPECT_EQ(listed[2], a);
  EXPECT_EQ(jobs.List(v1::JOB_STATE_SUCCEEDED, 0, "anonymous").size(), 1u);
  EXPECT_EQ(Message(jobs.Find("nope", "anonymous").status()), "job_id: no job \"nope\" (unknown or expired)");
  jobs.Close();
  EXPECT_EQ(b2->ToProto(false).state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(b2->ToProto(false).error().code(), static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_EQ(jobs.NextJob(), nullptr);
}

TEST(JobManagerTest, AttachedJobIsCancelledWhenItsLastCallerLeaves) {
  Metrics metrics;
  JobManager jobs({4, 1, absl::Minutes(1), 100}, &metrics);
  jobs.StartAdmitting();
  auto a = jobs.Submit(Spec("r"), JobManager::Mode::kAttached).value();
  EXPECT_EQ(jobs.Submit(Spec("r"), JobManager::Mode::kAttached).value(), a);  // two callers
  std::shared_ptr<Job> running = jobs.NextJob();
  jobs.Detach(a, absl::DeadlineExceededError("the caller's deadline passed"));
  EXPECT_FALSE(a->cancel_requested());
  jobs.Detach(a, absl::DeadlineExceededError("the caller's deadline passed"));
  EXPECT_TRUE(a->cancel_requested());
  // The worker's solver stops with CANCELLED; the job keeps the reason.
  jobs.Finish(a, absl::CancelledError("ttt: cancelled"));
  EXPECT_EQ(a->status(), absl::DeadlineExceededError("the caller's deadline passed"));
  EXPECT_EQ(a->ToProto(false).state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(jobs.running(), 0);
  EXPECT_DOUBLE_EQ(metrics.jobs_in_flight().Value(), 0);
  // A detached (SubmitTask) claim keeps a job alive when callers leave.
  auto b = jobs.Submit(Spec("s", 3), JobManager::Mode::kAttached).value();
  EXPECT_EQ(jobs.Submit(Spec("s", 3), JobManager::Mode::kDetached).value(), b);
  jobs.Detach(b, absl::CancelledError("gone"));
  EXPECT_FALSE(b->cancel_requested());
}

TEST(JobManagerTest, FinishedJobsExpire) {
  Metrics metrics;
  JobManager jobs({4, 1, absl::Milliseconds(50), 100}, &metrics);
  jobs.StartAdmitting();
  auto a = jobs.Submit(Spec("x"), JobManager::Mode::kDetached).value();
  jobs.NextJob();
  jobs.Finish(a, FakeResult(*a));
  EXPECT_TRUE(jobs.Find(a->id(), "anonymous").ok());
  absl::SleepFor(absl::Milliseconds(80));
  EXPECT_EQ(jobs.Find(a->id(), "anonymous").status().code(), absl::StatusCode::kNotFound);
  // Its request id is free again.
  EXPECT_NE(jobs.Submit(Spec("x"), JobManager::Mode::kDetached).value(), a);
}


TEST(JobManagerTest, JobsBelongToTheirOwnerAndIdsAreRandom) {
  Metrics metrics;
  JobManager jobs({8, 1, absl::Minutes(1), 100}, &metrics);
  jobs.StartAdmitting();
  JobSpec alice = Spec("same-request");
  alice.owner = "alice";
  JobSpec bob = Spec("same-request");
  bob.owner = "bob";
  auto a = jobs.Submit(alice, JobManager::Mode::kDetached).value();
  auto b = jobs.Submit(bob, JobManager::Mode::kDetached).value();
  // Request ids are per owner: bob's equal id is another job.
  EXPECT_NE(a, b);
  EXPECT_EQ(jobs.Submit(alice, JobManager::Mode::kDetached).value(), a);
  EXPECT_EQ(a->owner(), "alice");
  // Another owner's job reads exactly as an unknown one.
  EXPECT_TRUE(jobs.Find(a->id(), "alice").ok());
  EXPECT_EQ(Message(jobs.Find(a->id(), "bob").status()),
            absl::StrCat("job_id: no job \"", a->id(), "\" (unknown or expired)"));
  ASSERT_EQ(jobs.List(v1::JOB_STATE_UNSPECIFIED, 0, "alice").size(), 1u);
  EXPECT_EQ(jobs.List(v1::JOB_STATE_UNSPECIFIED, 0, "alice")[0], a);
  EXPECT_TRUE(jobs.List(v1::JOB_STATE_UNSPECIFIED, 0, "carol").empty());
  // job- and 32 hex digits, all different.
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewJobId();
    ASSERT_EQ(id.size(), 36u) << id;
    ASSERT_EQ(id.substr(0, 4), "job-");
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef", 4), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  jobs.Close();
}

TEST(AuthTest, ConstantTimeEqualsAndLoopback) {
  EXPECT_TRUE(ConstantTimeEquals("abcdef", "abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcdeg"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcde"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  for (const char* a : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:1", "[::1]:5", "unix:/tmp/s"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a : {"0.0.0.0:50051", "[::]:50051", "10.0.0.2:1", "example.com:443", ":50051"}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
  SecurityOptions o;
  EXPECT_TRUE(CheckExposure("127.0.0.1:50051", o).ok());
  const absl::Status open = CheckExposure("0.0.0.0:50051", o);
  EXPECT_EQ(open.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(open).find("--address: \"0.0.0.0:50051\" is reachable beyond this machine"),
            std::string::npos)
      << open;
  o.insecure = true;
  EXPECT_TRUE(CheckExposure("0.0.0.0:50051", o).ok());
  o.insecure = false;
  o.token_file = "/some/file";
  EXPECT_TRUE(CheckExposure("0.0.0.0:50051", o).ok());
  SecurityOptions half;
  half.tls_key = "k.pem";
  EXPECT_EQ(Message(ValidateSecurityOptions(half)),
            "--tls_key: given without --tls_cert (both are needed for TLS)");
}

TEST(AuthTest, TokensIdentifyCallers) {
  const std::string dir = arc::testing::TempDir("auth_tokens");
  const std::string file = dir + "/tokens";
  ASSERT_TRUE(WriteFileAtomic(file, "# comment\n\n0123456789abcdef0123 alice\n"
                              "fedcba9876543210fedc bob\n")
                  .ok());
  SecurityOptions o;
  o.token_file = file;
  absl::StatusOr<std::unique_ptr<Authenticator>> auth = Authenticator::Create(o);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ((*auth)->num_tokens(), 2);
  EXPECT_EQ((*auth)->IdentifyFrom("Bearer 0123456789abcdef0123", true, "").value(), "alice");
  EXPECT_EQ((*auth)->IdentifyFrom("Bearer fedcba9876543210fedc", true, "cn").value(), "bob");
  const absl::Status missing = (*auth)->IdentifyFrom("", false, "").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Message(missing), "missing bearer token: send metadata \"authorization: Bearer TOKEN\"");
  const absl::Status wrong = (*auth)->IdentifyFrom("Bearer 0123456789abcdef0124", true, "").status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Message(wrong), "invalid bearer token");
  EXPECT_EQ((*auth)->IdentifyFrom("Basic xyz", true, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  // Without tokens: the certificate's name under mTLS, else anonymous.
  EXPECT_EQ(Authenticator({}, true).IdentifyFrom("", false, "client-a").value(), "client-a");
  EXPECT_EQ(Authenticator({}, false).IdentifyFrom("", false, "client-a").value(), "anonymous");
  // Malformed files name the line.
  ASSERT_TRUE(WriteFileAtomic(file, "short alice\n").ok());
  EXPECT_EQ(Message(Authenticator::Create(o).status()),
            absl::StrCat("--token_file: ", file,
                         ":1: the token has 5 characters; at least 16 are required (openssl rand "
                         "-hex 32)"));
  ASSERT_TRUE(WriteFileAtomic(file, "0123456789abcdef0123 a\n0123456789abcdef0123 b\n").ok());
  EXPECT_EQ(Message(Authenticator::Create(o).status()),
            absl::StrCat("--token_file: ", file, ":2: the token is listed twice"));
  std::filesystem::remove_all(dir);
}

TEST(AuthTest, ARotatedTokenFileTakesEffectWithoutARestartAndABadOneKeepsTheOldTokens) {
  const std::string dir = arc::testing::TempDir("auth_rotation");
  const std::string file = dir + "/tokens";
  ASSERT_TRUE(WriteFileAtomic(file, "0123456789abcdef0123 alice\n").ok());
  SecurityOptions o;
  o.token_file = file;
  std::unique_ptr<Authenticator> auth = Authenticator::Create(o).value();
  auth->set_recheck_interval(absl::ZeroDuration());
  std::vector<std::string> lines;
  SetLogSinkForTesting([&lines](const std::string& line) { lines.push_back(line); });
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef0123", true, "").value(), "alice");
  EXPECT_TRUE(lines.empty());  // unchanged: nothing logged

  // Rotated (a new file renamed over the old one, as a Secret update or an atomic write does).
  ASSERT_TRUE(WriteFileAtomic(file, "fedcba9876543210fedc bob\n0123456789abcdef9999 carol\n").ok());
  EXPECT_EQ(auth->IdentifyFrom("Bearer fedcba9876543210fedc", true, "").value(), "bob");
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef0123", true, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth->num_tokens(), 2);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("event=tokens_reloaded"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("tokens=2 before=1"), std::string::npos) << lines[0];

  // A broken file: the previous tokens stay, the error is logged once.
  ASSERT_TRUE(WriteFileAtomic(file, "short dave\n").ok());
  EXPECT_EQ(Message(auth->ReloadIfChanged()),
            absl::StrCat("--token_file: ", file,
                         ":1: the token has 5 characters; at least 16 are required (openssl rand "
                         "-hex 32)"));
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef9999", true, "").value(), "carol");
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef9999", true, "").value(), "carol");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("event=tokens_reload_failed"), std::string::npos) << lines[1];
  // A missing file: the same.
  std::filesystem::remove(file);
  EXPECT_EQ(auth->IdentifyFrom("Bearer fedcba9876543210fedc", true, "").value(), "bob");
  EXPECT_EQ(auth->ReloadIfChanged().code(), absl::StatusCode::kInvalidArgument);
  // Fixed again: picked up.
  ASSERT_TRUE(WriteFileAtomic(file, "0123456789abcdef7777 erin\n").ok());
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef7777", true, "").value(), "erin");
  EXPECT_EQ(auth->num_tokens(), 1);

  // With the default interval, a change is seen within a second, not on every call.
  auth->set_recheck_interval(absl::Seconds(1));
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef7777", true, "").value(), "erin");
  ASSERT_TRUE(WriteFileAtomic(file, "0123456789abcdef6666 frank\n").ok());
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef7777", true, "").value(), "erin");
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_EQ(auth->IdentifyFrom("Bearer 0123456789abcdef6666", true, "").value(), "frank");
  SetLogSinkForTesting(nullptr);
  std::filesystem::remove_all(dir);
}

TEST(AdmissionTest, EstimateGrowsWithTheOptionsAndRefusesOverLimits) {
  std::shared_ptr<const ArcModel> model =
      arc::testing::RandomCompactModel(arc::testing::CompactTestConfig("tiny", 512), 7, "tiny");
  const JobCostModel costs(model);
  const Task task = SwapTask(3, 1);
  SolveOptions o;
  o.experts = Experts::kTtt;
  const JobCost base = costs.Estimate(task, o);
  EXPECT_GT(base.train_tokens_per_sample, 10);
  EXPECT_GT(base.prompt_tokens, 10);
  EXPECT_GT(base.token_steps, 0);
  SolveOptions big = o;
  big.train.batch_size = 32;
  big.lora.rank = 128;
  const JobCost more = costs.Estimate(task, big);
  EXPECT_GT(more.train_bytes, base.train_bytes);
  EXPECT_GT(more.step_gflop, base.step_gflop);
  SolveOptions search = o;
  search.experts = Experts::kSearch;
  EXPECT_EQ(costs.Estimate(task, search).token_steps, 0);

  CostLimits limits;
  EXPECT_TRUE(AdmitJobCost(base, limits).ok());
  limits.max_job_bytes = base.bytes - 1;
  const absl::Status refused = AdmitJobCost(base, limits);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(Message(refused).find("job too large: estimated peak memory"), std::string::npos);
  EXPECT_NE(Message(refused).find("is above --max_job_memory_mb"), std::string::npos);
  limits = CostLimits{};
  limits.max_job_token_steps = base.token_steps - 1;
  EXPECT_NE(Message(AdmitJobCost(base, limits)).find("token-steps are above --max_job_token_steps"),
            std::string::npos);
}

}  // namespace
}  // namespace arc::server
