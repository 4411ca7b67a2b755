//! One-off tasks, `job run`, ECS Exec and `svc pause|resume` through the
//! real `ferry` binary against moto on loopback: `task run` deploys Copilot's
//! `task-<group>` stack, starts the tasks in the environment's cluster and
//! `--follow` reads the log events written to the task's stream back until
//! the tasks stop; `task exec` hands ECS's session to the Session Manager
//! plugin exactly as the AWS CLI does; `job run` starts the job's state
//! machine; `svc pause|resume` drive App Runner. (The exit code of a task
//! that fails is tested at the `TaskApi` boundary in ferry-aws: moto runs
//! no containers.)

use crate::common;

use common::{fail_on_moto, ferry, ferry_on_moto_process, json_event, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::{Value, json};
use std::io::{BufRead, Read, Write};
use std::path::Path;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A signed-looking JSON call to one of moto's services (moto routes by the
/// credential scope's service name).
fn aws_json(moto: &Moto, service: &str, target: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", moto.port)).expect("moto");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-west-2/{service}/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
    if body.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{target}: not JSON ({e}): {response}"))
}

/// How moto moves ECS tasks through their states (its state manager).
fn task_progression(moto: &Moto, transition: Value) {
    let body = json!({"model_name": "ecs::task", "transition": transition}).to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", moto.port)).expect("moto");
    write!(
        stream,
        "POST /moto-api/state-manager/set-transition HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.") && response.contains(" 20"), "{response}");
}

/// The lines a child prints on stdout, as they come.
fn lines_of(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits (at most 2 minutes) for a JSON event of a child's stream.
fn wait_for_event(lines: &std::sync::mpsc::Receiver<String>, name: &str, child: &mut std::process::Child) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            Ok(line) => {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && event["event"] == name
                {
                    return event;
                }
                seen.push(line);
            }
            Err(_) => {
                let _ = child.kill();
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("no {name} event:\n{}\nstderr:\n{err}", seen.join("\n"));
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

const BACKEND: &str =
    "name: NAME\ntype: Backend Service\nimage:\n  location: public.ecr.aws/docker/library/nginx:1\n  port: 80\n";
const JOB: &str = "name: nightly\ntype: Scheduled Job\nimage:\n  location: public.ecr.aws/docker/library/busybox:1\non:\n  schedule: \"@daily\"\n";
const RDWS: &str = "name: web\ntype: Request-Driven Web Service\nimage:\n  location: 123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:1.0\n  port: 8080\n";

/// An app `shop` with environment `test` deployed on the emulator.
fn shop(moto: &Moto, workloads: &[(&str, String)]) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: shop\n");
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    for (name, manifest) in workloads {
        write(dir, &format!("copilot/{name}/manifest.yml"), manifest);
    }
    run(moto, dir, &["app", "init"]);
    run(moto, dir, &["env", "deploy", "-n", "test"]);
    ws
}

#[tokio::test(flavor = "multi_thread")]
async fn task_run_deploys_copilots_stack_starts_tasks_and_follows_their_logs() {
    let moto = Moto::start();
    let ws = shop(&moto, &[]);
    let dir = ws.path();
    // Each state of a task lasts 2 s, so the test writes its log lines
    // while the task runs, and the task stops by itself.
    task_progression(&moto, json!({"progression": "time", "seconds": 2}));

    let mut child = ferry_on_moto_process(&moto, dir)
        .args([
            "task",
            "run",
            "-n",
            "migrate",
            "--env",
            "test",
            "--image",
            "public.ecr.aws/docker/library/busybox:1",
            "--env-vars",
            "MODE=once,LEVEL=debug",
            "--command",
            "sh -c 'echo migrated'",
            "--cpu",
            "512",
            "--memory",
            "1024",
            "--resource-tags",
            "team=data",
            "--follow",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut stream = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let task_arn = loop {
        let line = lines.recv_timeout(deadline - std::time::Instant::now()).unwrap_or_else(|_| {
            let _ = child.kill();
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("no task_started event:\n{}\nstderr:\n{err}", stream.join("\n"))
        });
        stream.push(line.clone());
        if let Ok(event) = serde_json::from_str::<Value>(&line)
            && event["event"] == "task_started"
        {
            break event["task"].as_str().unwrap().to_string();
        }
    };
    // What the container would log, into the stream its awslogs driver writes.
    let task_id = task_arn.rsplit('/').next().unwrap();
    let log_stream = format!("copilot-task/migrate/{task_id}");
    aws_json(
        &moto,
        "logs",
        "Logs_20140328.CreateLogStream",
        &json!({"logGroupName": "/copilot/migrate", "logStreamName": log_stream}),
    );
    aws_json(
        &moto,
        "logs",
        "Logs_20140328.PutLogEvents",
        &json!({"logGroupName": "/copilot/migrate", "logStreamName": log_stream,
                "logEvents": [{"timestamp": now_ms(), "message": "migrated 42 rows"}]}),
    );
    let status = child.wait().unwrap();
    stream.extend(lines.iter());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let stream = stream.join("\n");
    assert!(status.success(), "task run --follow failed ({status}):\n{stream}\nstderr:\n{stderr}");
    let log = json_event(&stream, "log");
    assert_eq!(
        (log["message"].as_str(), log["stream"].as_str()),
        (Some("migrated 42 rows"), Some(log_stream.as_str()))
    );
    let stopped = json_event(&stream, "tasks_stopped");
    assert_eq!(stopped["exit_code"], 0, "{stopped}");
    assert_eq!(stopped["tasks"][0]["last_status"], "STOPPED");

    // Copilot's stack, tags and task definition.
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let described = aws.cloudformation().describe_stacks().stack_name("task-migrate").send().await.unwrap();
    let stack = &described.stacks()[0];
    let tags: Vec<(String, String)> =
        stack.tags().iter().map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string())).collect();
    for wanted in [
        ("copilot-task", "migrate"),
        ("copilot-application", "shop"),
        ("copilot-environment", "test"),
        ("team", "data"),
    ] {
        assert!(tags.contains(&(wanted.0.into(), wanted.1.into())), "{tags:?}");
    }
    let resources = aws.cloudformation().describe_stack_resources().stack_name("task-migrate").send().await.unwrap();
    let mut ids: Vec<&str> = resources.stack_resources().iter().filter_map(|r| r.logical_resource_id()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "DefaultExecutionRole",
            "DefaultTaskRole",
            "ECRRepo",
            "LogGroup",
            "S3Bucket",
            "S3BucketPolicy",
            "TaskDefinition"
        ]
    );
    let definition = aws_json(
        &moto,
        "ecs",
        "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition",
        &json!({"taskDefinition": "copilot-migrate"}),
    );
    let definition = &definition["taskDefinition"];
    // moto's task definition model keeps Memory but drops the task-level
    // Cpu: the stack's parameters carry both, as Copilot passes them.
    assert_eq!(definition["memory"].as_str(), Some("1024"));
    let parameters: Vec<(String, String)> = stack
        .parameters()
        .iter()
        .map(|p| (p.parameter_key().unwrap().to_string(), p.parameter_value().unwrap_or_default().to_string()))
        .collect();
    for wanted in
        [("TaskName", "migrate"), ("TaskCPU", "512"), ("TaskMemory", "1024"), ("App", "shop"), ("Env", "test")]
    {
        assert!(parameters.contains(&(wanted.0.into(), wanted.1.into())), "{parameters:?}");
    }
    let container = &definition["containerDefinitions"][0];
    assert_eq!(container["name"], "migrate");
    assert_eq!(container["command"], json!(["sh", "-c", "echo migrated"]));
    assert_eq!(
        container["environment"],
        json!([{"name": "MODE", "value": "once"}, {"name": "LEVEL", "value": "debug"}])
    );
    assert_eq!(container["logConfiguration"]["options"]["awslogs-stream-prefix"], "copilot-task");
    let repos = aws_json(
        &moto,
        "ecr",
        "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        &json!({"repositoryNames": ["copilot-migrate"]}),
    );
    assert_eq!(repos["repositories"][0]["repositoryName"], "copilot-migrate");
    // The tasks ran in the environment's cluster, started by `copilot-task`.
    let env_stack = aws.cloudformation().describe_stacks().stack_name("shop-test").send().await.unwrap();
    let cluster = env_stack.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("ClusterId"))
        .unwrap()
        .output_value()
        .unwrap()
        .to_string();
    let tasks = aws_json(
        &moto,
        "ecs",
        "AmazonEC2ContainerServiceV20141113.DescribeTasks",
        &json!({"cluster": cluster, "tasks": [task_arn]}),
    );
    assert_eq!(tasks["tasks"][0]["startedBy"], "copilot-task", "{tasks}");

    // `task delete` stops what runs and removes the stack.
    let stderr =
        fail_on_moto(&moto, dir, &["task", "delete", "-n", "migrate", "--env", "test"], "no --yes and no terminal");
    assert!(stderr.contains("--yes"), "{stderr}");
    run(&moto, dir, &["task", "delete", "-n", "migrate", "--env", "test", "--yes"]);
    let gone = aws.cloudformation().describe_stacks().stack_name("task-migrate").send().await;
    assert!(gone.is_err() || gone.unwrap().stacks()[0].stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE"));
    let stderr =
        fail_on_moto(&moto, dir, &["task", "delete", "-n", "migrate", "--env", "test", "--yes"], "nothing left");
    assert!(stderr.contains("there is no task group `migrate`"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn task_run_without_a_place_or_with_a_bad_flag_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        ferry(dir.path()).env("CI", "true").args(["task", "run", "-n", "x", "--image", "busybox"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("where should the tasks run?") && stderr.contains("--default"), "{stderr}");
    let out = ferry(dir.path())
        .env("CI", "true")
        .args(["task", "run", "-n", "x", "--default", "--image", "busybox", "--env-vars", "NOPE"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--env-vars `NOPE` is not key=value"), "{stderr}");
    let out = ferry(dir.path())
        .env("CI", "true")
        .args(["task", "run", "-n", "x", "--default", "--image", "busybox", "--secrets", "DB=/db"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--acknowledge-secrets-access"), "{stderr}");
    let out = ferry(dir.path()).args(["task", "run", "--env", "test", "--default"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses --env with --default");
}

#[tokio::test(flavor = "multi_thread")]
async fn task_exec_hands_ecs_session_to_the_session_manager_plugin() {
    let moto = Moto::start();
    let backend_off = BACKEND.replace("NAME", "plain");
    let ws = shop(&moto, &[("plain", backend_off)]);
    let dir = ws.path();
    task_progression(&moto, json!({"progression": "manual", "times": 1_000_000}));
    let started = run(
        &moto,
        dir,
        &[
            "task",
            "run",
            "-n",
            "shell",
            "--env",
            "test",
            "--image",
            "public.ecr.aws/docker/library/busybox:1",
            "--json",
        ],
    );
    let task_arn = json_event(&started, "task_started")["task"].as_str().unwrap().to_string();

    // No plugin on PATH: a clear error naming it, and no session opened.
    let bare = tempfile::tempdir().unwrap();
    let out = ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .env("PATH", bare.path())
        .args(["task", "exec", "-n", "shell", "-e", "test", "-c", "ls -la"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`session-manager-plugin` is not installed"), "{stderr}");
    assert!(stderr.contains("session-manager-working-with-install-plugin"), "how to install it: {stderr}");

    // A stand-in plugin that records its arguments, one a line.
    let bin = tempfile::tempdir().unwrap();
    let record = bin.path().join("args.txt");
    let plugin = bin.path().join("session-manager-plugin");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {}\nexit ${{FAKE_EXIT:-0}}\n",
            record.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .env("PATH", &path)
        .env_remove("AWS_PROFILE")
        .args(["task", "exec", "-n", "shell", "-e", "test", "-c", "ls -la"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let args: Vec<String> = std::fs::read_to_string(&record).unwrap().lines().map(str::to_string).collect();
    assert_eq!(args.len(), 6, "{args:?}");
    let session: Value = serde_json::from_str(&args[0]).unwrap();
    assert!(session["sessionId"].as_str().unwrap().starts_with("ecs-execute-command-"), "{session}");
    assert!(session["streamUrl"].as_str().unwrap().starts_with("wss://ssmmessages.us-west-2.amazonaws.com/"));
    assert!(!session["tokenValue"].as_str().unwrap().is_empty());
    assert_eq!(args[1..4], ["us-west-2", "StartSession", ""]);
    let described = aws_json(
        &moto,
        "ecs",
        "AmazonEC2ContainerServiceV20141113.DescribeTasks",
        &json!({"cluster": task_arn.split('/').nth(1).unwrap(), "tasks": [task_arn]}),
    );
    let task = &described["tasks"][0];
    let cluster = task["clusterArn"].as_str().unwrap().rsplit('/').next().unwrap();
    let target = format!(
        "ecs:{cluster}_{}_{}",
        task_arn.rsplit('/').next().unwrap(),
        task["containers"][0]["runtimeId"].as_str().unwrap()
    );
    assert_eq!(serde_json::from_str::<Value>(&args[4]).unwrap(), json!({"Target": target}));
    assert_eq!(args[5], moto.endpoint());

    // The plugin's exit code is ferry's.
    let out = ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .env("PATH", &path)
        .env("FAKE_EXIT", "7")
        .args(["task", "exec", "-n", "shell", "-e", "test", "--task-id", &task_arn.rsplit('/').next().unwrap()[..6]])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let out = ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .env("PATH", &path)
        .args(["task", "exec", "-n", "shell", "-e", "test", "--task-id", "zzz"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no running task of task group `shell` has an ID starting with `zzz`")
    );

    // A service deployed without `exec: true` is refused with what to change.
    run(&moto, dir, &["svc", "deploy", "-n", "plain", "-e", "test"]);
    let out = ferry(dir)
        .envs(moto.env())
        .env("CI", "true")
        .env("PATH", &path)
        .args(["svc", "exec", "-n", "plain", "-e", "test"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ECS Exec is not enabled for service `plain`"), "{stderr}");
    assert!(stderr.contains("set `exec: true` in copilot/plain/manifest.yml"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn job_run_starts_the_jobs_state_machine() {
    let moto = Moto::start();
    let ws = shop(&moto, &[("nightly", JOB.to_string()), ("api", BACKEND.replace("NAME", "api"))]);
    let dir = ws.path();
    let stderr = fail_on_moto(&moto, dir, &["job", "run", "-n", "nightly", "-e", "test"], "not deployed");
    assert!(
        stderr.contains("job `nightly` is not deployed to environment `test`") && stderr.contains("ferry job deploy"),
        "{stderr}"
    );
    run(&moto, dir, &["job", "deploy", "-n", "nightly", "-e", "test"]);
    let stream = run(&moto, dir, &["job", "run", "-n", "nightly", "-e", "test", "--json"]);
    let started = json_event(&stream, "execution_started");
    let machine = started["state_machine"].as_str().unwrap();
    assert!(machine.starts_with("arn:aws:states:us-west-2:123456789012:stateMachine:shop-test-nightly"), "{started}");
    let execution =
        aws_json(&moto, "states", "AWSStepFunctions.DescribeExecution", &json!({"executionArn": started["execution"]}));
    assert_eq!(execution["stateMachineArn"], machine, "{execution}");
    assert!(["RUNNING", "SUCCEEDED"].contains(&execution["status"].as_str().unwrap()), "{execution}");
    // Started twice: two executions.
    run(&moto, dir, &["job", "run", "-n", "nightly", "-e", "test"]);
    let listed = aws_json(&moto, "states", "AWSStepFunctions.ListExecutions", &json!({"stateMachineArn": machine}));
    assert_eq!(listed["executions"].as_array().unwrap().len(), 2, "{listed}");

    // --follow: the job's log lines while it runs, then its end (here an
    // execution stopped from outside: ferry fails with what happened).
    let mut child = ferry_on_moto_process(&moto, dir)
        .args(["job", "run", "-n", "nightly", "-e", "test", "--follow", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = lines_of(child.stdout.take().unwrap());
    let started = wait_for_event(&lines, "execution_started", &mut child);
    aws_json(
        &moto,
        "logs",
        "Logs_20140328.CreateLogStream",
        &json!({"logGroupName": "/copilot/shop-test-nightly", "logStreamName": "copilot/nightly/run1"}),
    );
    aws_json(
        &moto,
        "logs",
        "Logs_20140328.PutLogEvents",
        &json!({"logGroupName": "/copilot/shop-test-nightly", "logStreamName": "copilot/nightly/run1",
                "logEvents": [{"timestamp": now_ms(), "message": "report written"}]}),
    );
    let logged = wait_for_event(&lines, "log", &mut child);
    assert_eq!(logged["message"], "report written");
    aws_json(&moto, "states", "AWSStepFunctions.StopExecution", &json!({"executionArn": started["execution"]}));
    let status = child.wait().unwrap();
    // Every line up to the end of its stdout (the reader thread may lag
    // behind the exit on a loaded machine; it ends at end of file).
    let rest: Vec<String> = lines.iter().collect();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(json_event(&rest.join("\n"), "execution_finished")["status"], "ABORTED");
    assert!(stderr.contains("job `nightly` aborted"), "{stderr}");

    run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test"]);
    let stderr = fail_on_moto(&moto, dir, &["job", "run", "-n", "api", "-e", "test"], "a service has no state machine");
    assert!(stderr.contains("`api` has no state machine to start"), "{stderr}");

    // --generate-cmd: a task run command filled from the service's task definition.
    let generated = run(&moto, dir, &["task", "run", "--generate-cmd", "shop/test/api"]);
    assert!(generated.starts_with("ferry task run \\\n  --task-group-name api"), "{generated}");
    assert!(generated.contains("--image public.ecr.aws/docker/library/nginx:1"), "{generated}");
    assert!(generated.trim_end().ends_with("--app shop --env test"), "{generated}");
}

/// `--env-file`, as Copilot: the file goes as it is to the bucket of the
/// group's stack (`manual/env-files/<name>/<sha256>.env`) and the task
/// definition names it in `EnvironmentFiles` (type s3), not as variables;
/// the execution role may read it. A second run with the same group
/// updates the stack; `task delete` empties the bucket so the stack goes.
#[tokio::test(flavor = "multi_thread")]
async fn task_run_env_file_is_uploaded_and_named_by_the_task_definition() {
    let moto = Moto::start();
    let ws = shop(&moto, &[]);
    let dir = ws.path();
    let text = "# settings\nMODE=once\nLEVEL=debug\n";
    write(dir, "config/task.env", text);
    let image = "public.ecr.aws/docker/library/busybox:1";
    let args = ["task", "run", "-n", "seed", "--env", "test", "--image", image, "--env-file", "config/task.env"];
    let stream = run(&moto, dir, &[&args[..], &["--env-vars", "EXTRA=1", "--json"]].concat());
    let uploaded = json_event(&stream, "env_file_uploaded");
    let arn = uploaded["arn"].as_str().expect("the uploaded file's ARN").to_string();

    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let described = aws.cloudformation().describe_stacks().stack_name("task-seed").send().await.unwrap();
    let stack = &described.stacks()[0];
    let bucket = stack.outputs().iter().find(|o| o.output_key() == Some("S3Bucket")).and_then(|o| o.output_value());
    let bucket = bucket.expect("the task stack's S3Bucket output").to_string();
    // Copilot's key: the file's name, then its content's SHA-256.
    let listed = aws.s3().list_objects_v2().bucket(&bucket).prefix("manual/env-files/task.env/").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = keys[0].to_string();
    let digest = key.trim_start_matches("manual/env-files/task.env/").trim_end_matches(".env");
    assert!(digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert_eq!(arn, format!("arn:aws:s3:::{bucket}/{key}"));
    let object = aws.s3().get_object().bucket(&bucket).key(&key).send().await.expect("the env file is in S3");
    let body = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(std::str::from_utf8(&body).unwrap(), text, "uploaded as it is");
    let parameter = stack.parameters().iter().find(|p| p.parameter_key() == Some("EnvFileARN"));
    assert_eq!(parameter.and_then(|p| p.parameter_value()), Some(arn.as_str()));

    let definition = aws_json(
        &moto,
        "ecs",
        "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition",
        &json!({"taskDefinition": "copilot-seed"}),
    );
    let container = &definition["taskDefinition"]["containerDefinitions"][0];
    assert_eq!(container["environmentFiles"], json!([{"type": "s3", "value": arn}]), "{container}");
    assert_eq!(container["environment"], json!([{"name": "EXTRA", "value": "1"}]), "the file is not folded in");
    let template = aws.cloudformation().get_template().stack_name("task-seed").send().await.unwrap();
    let template: Value = serde_json::from_str(template.template_body().unwrap()).unwrap();
    let policies = template["Resources"]["DefaultExecutionRole"]["Properties"]["Policies"].to_string();
    assert!(policies.contains("GetEnvFilePolicy") && policies.contains("s3:GetObject"), "{policies}");

    // The same group again (the stack exists: updated, not refused).
    run(&moto, dir, &args);
    run(&moto, dir, &["task", "delete", "-n", "seed", "--env", "test", "--yes"]);
    let gone = aws.cloudformation().describe_stacks().stack_name("task-seed").send().await;
    assert!(gone.is_err() || gone.unwrap().stacks()[0].stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE"));
}

/// Writes one log event into `stream` of `group` (what awslogs or Step
/// Functions' log delivery would write).
fn put_log_event(moto: &Moto, group: &str, stream: &str, message: &str) {
    aws_json(moto, "logs", "Logs_20140328.CreateLogStream", &json!({"logGroupName": group, "logStreamName": stream}));
    aws_json(
        moto,
        "logs",
        "Logs_20140328.PutLogEvents",
        &json!({"logGroupName": group, "logStreamName": stream,
                "logEvents": [{"timestamp": now_ms(), "message": message}]}),
    );
}

fn messages(stream: &str) -> Vec<String> {
    common::json_events(stream).iter().filter_map(|e| e["message"].as_str().map(str::to_string)).collect()
}

/// `svc logs --previous` (Copilot: the logs of the service's task that
/// stopped last) and `job logs --include-state-machine` (Copilot: also the
/// state machine's execution logs, which its job template delivers to the
/// job's log group under `states/`), through the binary, `--json` too.
#[tokio::test(flavor = "multi_thread")]
async fn svc_logs_previous_and_job_logs_with_the_state_machine() {
    let moto = Moto::start();
    let ws = shop(&moto, &[("api", BACKEND.replace("NAME", "api")), ("nightly", JOB.to_string())]);
    let dir = ws.path();
    run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test"]);
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let resources = aws.cloudformation().describe_stack_resources().stack_name("shop-test-api").send().await.unwrap();
    let physical = |kind: &str| {
        resources
            .stack_resources()
            .iter()
            .find(|r| r.resource_type() == Some(kind))
            .and_then(|r| r.physical_resource_id())
            .unwrap()
            .to_string()
    };
    let (service_arn, definition) = (physical("AWS::ECS::Service"), physical("AWS::ECS::TaskDefinition"));
    let (cluster, service) = ferry_aws::service_deployments::split_service_arn(&service_arn).unwrap();

    // No task of the service has stopped yet.
    let out = run(&moto, dir, &["svc", "logs", "-n", "api", "-e", "test", "--previous", "--json"]);
    assert!(messages(&out).is_empty(), "{out}");

    // Tasks as the service starts them (its group), and one of another group.
    let env_stack = aws.cloudformation().describe_stacks().stack_name("shop-test").send().await.unwrap();
    let subnet = env_stack.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("PublicSubnets"))
        .and_then(|o| o.output_value())
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let target = |op: &str| format!("AmazonEC2ContainerServiceV20141113.{op}");
    let start = |group: String, count: u32| -> Vec<String> {
        let out = aws_json(
            &moto,
            "ecs",
            &target("RunTask"),
            &json!({"cluster": cluster, "taskDefinition": definition, "group": group, "count": count,
                    "launchType": "FARGATE",
                    "networkConfiguration": {"awsvpcConfiguration": {"subnets": [subnet]}}}),
        );
        let tasks = out["tasks"].as_array().unwrap_or_else(|| panic!("RunTask: {out}"));
        tasks.iter().map(|t| t["taskArn"].as_str().unwrap().rsplit('/').next().unwrap().to_string()).collect()
    };
    let ours = start(format!("service:{service}"), 2);
    let other = start("family:other".to_string(), 1);
    for id in [&ours[0], &other[0]] {
        aws_json(&moto, "ecs", &target("StopTask"), &json!({"cluster": cluster, "task": id, "reason": "test"}));
    }
    let group = "/copilot/shop-test-api";
    put_log_event(&moto, group, &format!("copilot/api/{}", ours[0]), "stopped task's last words");
    put_log_event(&moto, group, &format!("copilot/api/{}", ours[1]), "still running");
    put_log_event(&moto, group, &format!("copilot/api/{}", other[0]), "not the service's");

    let out = run(&moto, dir, &["svc", "logs", "-n", "api", "-e", "test", "--previous", "--json"]);
    assert_eq!(messages(&out), ["stopped task's last words"], "{out}");
    let event = common::json_events(&out).into_iter().next().unwrap();
    assert_eq!(event["stream"], format!("copilot/api/{}", ours[0]));
    let text = run(&moto, dir, &["svc", "logs", "-n", "api", "-e", "test", "-p"]);
    assert!(text.contains("stopped task's last words") && !text.contains("still running"), "{text}");
    let all = run(&moto, dir, &["svc", "logs", "-n", "api", "-e", "test", "--json"]);
    assert_eq!(messages(&all).len(), 3, "{all}");

    // The job's state machine logs to the job's log group.
    run(&moto, dir, &["job", "deploy", "-n", "nightly", "-e", "test"]);
    let template = aws.cloudformation().get_template().stack_name("shop-test-nightly").send().await.unwrap();
    let template: Value = serde_json::from_str(template.template_body().unwrap()).unwrap();
    assert_eq!(
        template["Resources"]["StateMachine"]["Properties"]["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]
            ["LogGroupArn"],
        json!({"Fn::GetAtt": ["LogGroup", "Arn"]})
    );
    let started =
        json_event(&run(&moto, dir, &["job", "run", "-n", "nightly", "-e", "test", "--json"]), "execution_started");
    let execution = started["execution"].as_str().unwrap_or_default().rsplit(':').next().unwrap_or("run").to_string();
    let group = "/copilot/shop-test-nightly";
    put_log_event(&moto, group, "copilot/nightly/0123456789abcdef", "job's task output");
    put_log_event(&moto, group, &format!("states/shop-test-nightly/{execution}"), "{\"type\":\"ExecutionStarted\"}");

    let out = run(&moto, dir, &["job", "logs", "-n", "nightly", "-e", "test", "--json"]);
    assert_eq!(messages(&out), ["job's task output"], "the state machine's streams are left out by default: {out}");
    let out = run(&moto, dir, &["job", "logs", "-n", "nightly", "-e", "test", "--include-state-machine", "--json"]);
    let mut got = messages(&out);
    got.sort();
    assert_eq!(got, ["job's task output", "{\"type\":\"ExecutionStarted\"}"], "{out}");
    let text = run(&moto, dir, &["job", "logs", "-n", "nightly", "-e", "test", "--include-state-machine"]);
    assert!(text.contains("ExecutionStarted") && text.contains("job's task output"), "{text}");

    // Each flag where Copilot has it.
    let stderr = fail_on_moto(&moto, dir, &["job", "logs", "-n", "nightly", "-e", "test", "--previous"], "svc only");
    assert!(stderr.contains("--previous reads the last stopped task of a service"), "{stderr}");
    let stderr =
        fail_on_moto(&moto, dir, &["svc", "logs", "-n", "api", "-e", "test", "--include-state-machine"], "job only");
    assert!(stderr.contains("ferry job logs"), "{stderr}");
}

/// `--default`: the default cluster and the default VPC's subnets and
/// security group; no application needed, and a clear hint without a
/// `default` cluster.
#[tokio::test(flavor = "multi_thread")]
async fn task_run_default_uses_the_default_cluster_and_vpc() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let image = "public.ecr.aws/docker/library/busybox:1";
    let stderr =
        fail_on_moto(&moto, dir, &["task", "run", "-n", "probe", "--default", "--image", image], "no default cluster");
    assert!(stderr.contains("aws ecs create-cluster"), "{stderr}");
    aws_json(&moto, "ecs", "AmazonEC2ContainerServiceV20141113.CreateCluster", &json!({"clusterName": "default"}));
    let stream =
        run(&moto, dir, &["task", "run", "-n", "probe", "--default", "--image", image, "--count", "2", "--json"]);
    let started: Vec<Value> =
        common::json_events(&stream).into_iter().filter(|e| e["event"] == "task_started").collect();
    assert_eq!(started.len(), 2, "{stream}");
    assert_eq!(started[0]["cluster"], "default");
    // Not in an environment: the stack carries the group's tag only, and its App/Env are empty.
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let described = aws.cloudformation().describe_stacks().stack_name("task-probe").send().await.unwrap();
    let tags: Vec<&str> = described.stacks()[0].tags().iter().filter_map(|t| t.key()).collect();
    assert_eq!(tags, ["copilot-task"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_and_resume_a_request_driven_web_service() {
    let moto = Moto::start();
    let ws = shop(&moto, &[("web", RDWS.to_string()), ("api", BACKEND.replace("NAME", "api"))]);
    let dir = ws.path();
    run(&moto, dir, &["svc", "deploy", "-n", "web", "-e", "test"]);
    let stderr = fail_on_moto(&moto, dir, &["svc", "pause", "-n", "web", "-e", "test"], "pausing asks first");
    assert!(stderr.contains("pass --yes"), "{stderr}");

    let paused: Value =
        serde_json::from_str(&run(&moto, dir, &["svc", "pause", "-n", "web", "-e", "test", "--yes", "--json"]))
            .unwrap();
    assert_eq!(paused["status"], "PAUSED", "{paused}");
    let arn = paused["service_arn"].as_str().unwrap();
    assert!(arn.starts_with("arn:aws:apprunner:us-west-2:123456789012:service/"), "{arn}");
    let described = aws_json(&moto, "apprunner", "AppRunner.DescribeService", &json!({"ServiceArn": arn}));
    assert_eq!(described["Service"]["Status"], "PAUSED");
    let stderr = fail_on_moto(&moto, dir, &["svc", "pause", "-n", "web", "-e", "test", "--yes"], "already paused");
    assert!(stderr.contains("cannot pause service `web` in `test`"), "{stderr}");

    let resumed: Value =
        serde_json::from_str(&run(&moto, dir, &["svc", "resume", "-n", "web", "-e", "test", "--json"])).unwrap();
    assert_eq!(resumed["status"], "RUNNING", "{resumed}");
    let described = aws_json(&moto, "apprunner", "AppRunner.DescribeService", &json!({"ServiceArn": arn}));
    assert_eq!(described["Service"]["Status"], "RUNNING");

    run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test"]);
    let stderr = fail_on_moto(&moto, dir, &["svc", "pause", "-n", "api", "-e", "test", "--yes"], "not App Runner");
    assert!(stderr.contains("`svc pause` is only supported for Request-Driven Web Services"), "{stderr}");
    assert!(stderr.contains("`api` is a Backend Service"), "{stderr}");
    let stderr = fail_on_moto(&moto, dir, &["svc", "resume", "-n", "gone", "-e", "test"], "not deployed");
    assert!(stderr.contains("service `gone` is not deployed to environment `test`"), "{stderr}");
}

/// Each command's `--help` lists every long flag of Copilot's for it.
#[test]
fn help_lists_copilots_flags() {
    let commands: &[(&[&str], &[&str])] = &[
        (
            &["task", "run"],
            &[
                "--task-group-name",
                "--build-context",
                "--dockerfile",
                "--image",
                "--tag",
                "--app",
                "--cluster",
                "--default",
                "--env",
                "--security-groups",
                "--subnets",
                "--acknowledge-secrets-access",
                "--command",
                "--count",
                "--cpu",
                "--entrypoint",
                "--env-file",
                "--env-vars",
                "--execution-role",
                "--memory",
                "--platform-arch",
                "--platform-os",
                "--resource-tags",
                "--secrets",
                "--task-role",
                "--follow",
                "--generate-cmd",
                "--json",
            ],
        ),
        (&["task", "exec"], &["--app", "--command", "--default", "--env", "--name", "--task-id"]),
        (&["task", "delete"], &["--app", "--default", "--env", "--name", "--yes"]),
        (&["job", "run"], &["--app", "--env", "--name", "--follow", "--json"]),
        (&["svc", "exec"], &["--app", "--command", "--container", "--env", "--name", "--task-id", "--yes"]),
        (&["svc", "pause"], &["--app", "--env", "--name", "--yes", "--json"]),
        (&["svc", "resume"], &["--app", "--env", "--name", "--json"]),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (command, flags) in commands {
        let out = ferry(dir.path()).args(*command).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command:?}");
        for flag in *flags {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "`ferry {} --help` lacks {flag}:\n{help}",
                command.join(" ")
            );
        }
    }
}

/// The task stack's template is Copilot's `task/cf.yml` (as JSON) and
/// passes cfn-lint, with variables and both kinds of secrets.
#[test]
fn task_template_snapshot_passes_cfn_lint() {
    let spec = ferry_aws::task::TaskSpec {
        group: "db-migrate".into(),
        cpu: 256,
        memory: 512,
        image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/copilot-db-migrate@sha256:abc".into(),
        app: "shop".into(),
        env: "test".into(),
        env_vars: [("MODE".to_string(), "once".to_string())].into_iter().collect(),
        secrets: [
            ("DB_PASSWORD".to_string(), "/copilot/shop/test/secrets/DB_PASSWORD".to_string()),
            ("API_KEY".to_string(), "arn:aws:secretsmanager:us-west-2:123456789012:secret:api-key".to_string()),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    let template = spec.template();
    insta::assert_json_snapshot!("task_stack_template", template);
    ferry_test_support::cfn_lint(&[("task-db-migrate".into(), template)]).unwrap();
    let plain = ferry_aws::task::TaskSpec { group: "plain".into(), ..Default::default() }.template();
    ferry_test_support::cfn_lint(&[("task-plain".into(), plain)]).unwrap();
}
