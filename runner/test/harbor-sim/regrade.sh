# Sourced by ./harbor (the Harbor simulator): regrade, and an agent that writes its own reward.
# Tests only. Issue 16 items 11 and 12.
#
# Regrade, as Harbor releases after 0.22.0 do it (harbor/trial/regrade.py, harbor/job.py):
#   harbor job regrade --help        prints usage, exit 0 (the runner's check that regrade exists);
#                                    with HARBOR_SIM_NO_REGRADE=1 (environment only) it is missing,
#                                    as in 0.22.0: "No such command 'regrade'.", exit 2
#   harbor run -c <config>           whose config has source_jobs: [{"action": "regrade", "type":
#                                    "local", "path": <source job dir>}] and tasks[0].path = the task
#                                    whose CURRENT tests grade. For the source job's one trial it
#                                    writes a new trial: agent/ and artifacts/ copied from the source,
#                                    no environment, agent setup or agent phase, the verifier phase
#                                    of tasks[0] (its .harbor-sim knobs give the verdict) in
#                                    "separate" mode, agent_info and agent_result as the source's.
# Refused like Harbor (ValueError, traceback, exit 1, no job dir): a task whose verifier resolves to
# shared mode (neither [verifier] environment_mode = "separate" nor [verifier.environment]), a source
# job without a finished trial, a source trial of another task, a multi-step task. A source trial
# without a readable artifacts/manifest.json (a JSON list of artifact entries) ends in the trial's
# RegradeError (exit 0).
#
# HARBOR_SIM_AGENT_WRITES_REWARD=1: the agent phase writes verifier/reward.json = {"reward": 1.0}
# (the shared-mode hole: /logs/verifier is mounted into the agent's container), and after the
# verifier Harbor reads reward.json before reward.txt, as verifier.py does.

sim_job_regrade_cli() { # the arguments after `harbor job regrade`
  if [ "${HARBOR_SIM_NO_REGRADE-}" = 1 ]; then usage_error job "No such command 'regrade'."; fi
  case ${1-} in
    --help)
      printf '%s\n' "Usage: harbor job regrade [OPTIONS] SOURCE" "" \
        "  Re-run verification on a recorded job without re-running the agent." "" \
        "Options:" "  -p, --path PATH  Task (or dataset) providing the verifier  [required]" \
        "  -e, --env TEXT   Environment type"
      exit 0 ;;
  esac
  usage_error "job regrade" "the simulator regrades through a config file's source_jobs only (harbor run -c)"
}

# Job.__init__ derives the regrade trials before touching the file system: a refusal leaves no job dir.
regrade_refuse() {
  printf 'Traceback (most recent call last):\n  File "/opt/harbor/lib/python3.12/site-packages/harbor/job.py", line 118, in __init__\n    self._init_trial_configs()\n%s\n' "$1" >&2
  exit 1
}

# After the config is read: the source trial and the agent it recorded (Harbor carries the source
# trial's agent config; the agent never runs).
REGRADE_SOURCE=
regrade_source_agent() {
  [ -d "$SOURCE_JOB_PATH" ] || regrade_refuse "ValueError: Source job directory does not exist: $SOURCE_JOB_PATH"
  for _d in "$SOURCE_JOB_PATH"/*/; do
    _d=${_d%/}
    if [ -f "$_d/config.json" ] && [ -f "$_d/result.json" ]; then REGRADE_SOURCE=$_d; break; fi
  done
  [ -n "$REGRADE_SOURCE" ] || regrade_refuse "ValueError: No completed trials found to regrade in $SOURCE_JOB_PATH."
  _flat=$(sed -z 's/[\r\n\t]/ /g; s/"\([A-Za-z_][A-Za-z0-9_]*\)"[[:space:]]*:/\n"\1":/g' "$REGRADE_SOURCE/config.json")
  _section= AGENT= MODEL=
  while IFS= read -r _l; do
    case $_l in
      '"agent":'*) _section=agent ;;
      '"environment":'* | '"verifier":'* | '"task":'*) _section= ;;
      '"name":'*) if [ "$_section" = agent ] && [ -z "$AGENT" ]; then json_value "$_l"; AGENT=$V; fi ;;
      '"model_name":'*) if [ "$_section" = agent ] && [ -z "$MODEL" ]; then json_value "$_l"; MODEL=$V; fi ;;
    esac
  done <<EOF
$_flat
EOF
  [ "$MODEL" = null ] && MODEL=
  _flat=$(sed -z 's/[\r\n\t]/ /g; s/"\([A-Za-z_][A-Za-z0-9_]*\)"[[:space:]]*:/\n"\1":/g' "$REGRADE_SOURCE/result.json")
  REGRADE_TASK= REGRADE_AGENT_RAN=
  while IFS= read -r _l; do
    case $_l in
      '"task_name":'*) [ -n "$REGRADE_TASK" ] || { json_value "$_l"; REGRADE_TASK=$V; } ;;
      '"n_input_tokens":'*) json_value "$_l"; REGRADE_IN=$V; REGRADE_AGENT_RAN=1 ;;
      '"n_cache_tokens":'*) json_value "$_l"; REGRADE_CACHE=$V ;;
      '"n_output_tokens":'*) json_value "$_l"; REGRADE_OUT=$V ;;
      '"cost_usd":'*) [ -n "${REGRADE_COST-}" ] || { json_value "$_l"; REGRADE_COST=$V; } ;;
    esac
  done <<EOF
$_flat
EOF
  _name=${TASK_PATH%/}
  _name=${_name##*/}
  if [ "$REGRADE_TASK" != "$_name" ]; then
    regrade_refuse "ValueError: Source job contains trials for tasks with no matching task path: $REGRADE_TASK. Provide -p task paths covering every task in the job."
  fi
  # The simulator's words: Harbor refuses multi-step tasks (runner/src/harbor/regrade.ts).
  if grep -Eq '^[[:space:]]*\[\[[[:space:]]*steps[[:space:]]*\]\]' "$TASK_PATH/task.toml" 2>/dev/null; then
    regrade_refuse "ValueError: Task at $TASK_PATH is a multi-step task; regrade supports single-step tasks only."
  fi
  if ! grep -Eq '^[[:space:]]*environment_mode[[:space:]]*=[[:space:]]*"separate"|^[[:space:]]*\[verifier\.environment\]' "$TASK_PATH/task.toml" 2>/dev/null; then
    regrade_refuse "ValueError: Task at $TASK_PATH resolves to a shared-mode verifier, which needs a live agent environment; regrade re-runs verification against recorded artifacts only. If the verifier can grade from artifacts alone, set [verifier] environment_mode = \"separate\" in task.toml and read inputs from /logs/artifacts."
  fi
}

# The regrade trial's phases: seed from the source, then only the verifier (RegradeTrial._run).
regrade_phases() {
  AGENT_F=$T_STARTED
  IN_TOKENS=${REGRADE_IN:-null} CACHE_TOKENS=${REGRADE_CACHE:-null} OUT_TOKENS=${REGRADE_OUT:-null} COST=${REGRADE_COST:-null}
  AGENT_RAN=$REGRADE_AGENT_RAN N_EPISODES=0
  trial_log "Regrading $REGRADE_SOURCE: seeding agent/ and artifacts/ from the source trial"
  cp -R "$REGRADE_SOURCE/agent/." "$TRIAL_DIR/agent/" 2>/dev/null
  cp -R "$REGRADE_SOURCE/artifacts/." "$TRIAL_DIR/artifacts/" 2>/dev/null
  # The source's manifest: a JSON list of entries {source, destination, type, status, service}
  # (write_artifacts_manifest); missing, or not a list, it cannot vouch for the recorded artifacts.
  _manifest=$REGRADE_SOURCE/artifacts/manifest.json
  _first=
  [ -s "$_manifest" ] && _first=$(tr -d ' \t\r\n' <"$_manifest" | head -c 2)
  case $_first in
    '[{') ;;
    *)
      now_z
      if [ -s "$_manifest" ]; then
        record_exception RegradeError "Source trial '${REGRADE_SOURCE##*/}' has an artifacts/manifest.json that is not a list of artifact entries; artifact coverage cannot be verified." harbor.trial.regrade. ""
      else
        record_exception RegradeError "Source trial '${REGRADE_SOURCE##*/}' has no artifacts/manifest.json; artifact coverage cannot be verified." harbor.trial.regrade. ""
      fi
      return ;;
  esac
  run_phase_verifier
}

# A one-line hook in the agent phase.
agent_writes_reward() {
  [ "${HARBOR_SIM_AGENT_WRITES_REWARD-}" = 1 ] || return 0
  printf '{"reward": 1.0}\n' >"$TRIAL_DIR/verifier/reward.json"
  trial_log "agent: wrote /logs/verifier/reward.json"
}

# After the verifier: Harbor reads reward.json before reward.txt (verifier.py).
harbor_reads_reward_json() {
  [ -n "$VERIFIED" ] && [ -s "$TRIAL_DIR/verifier/reward.json" ] || return 0
  _r=$(sed -n 's/.*"reward"[[:space:]]*:[[:space:]]*\([-0-9.eE+]*\).*/\1/p' "$TRIAL_DIR/verifier/reward.json" | head -n 1)
  [ -n "$_r" ] || return 0
  case $_r in *.*) ;; *) _r=$_r.0 ;; esac
  REWARD_JSON=$_r
}
