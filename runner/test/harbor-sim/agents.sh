# The simulator's agents (sourced by ./harbor): agent setup and the agent phase, writing the files
# each of Harbor 0.22's agents writes (harbor-contract.md §4, §7; Harbor's src/harbor/agents/):
#
#   oracle       agent/oracle.txt: solve.sh's output, appended while it runs (the command is
#                `solve.sh > /logs/agent/oracle.txt 2>&1`); agent/exit-code.txt only when solve.sh
#                exits non-zero (scenario fail). Version 1.0.0.
#   nop          nothing at all; its trial fails (reward 0 unless HARBOR_SIM_REWARD says otherwise);
#                agent_result has only nulls. Version 1.0.0.
#   terminus-2   agent/terminus_2.pane (tmux output, appended), agent/trajectory.json (ATIF-v1.6,
#                rewritten after every step), agent/recording.cast (asciicast v2), and
#                agent/episode-N/{prompt,response}.txt per step (N from 0). Version 2.0.0.
#   claude-code  agent/setup/{stdout,return-code}.txt (install), agent/claude-code.txt (stream-json
#                lines, appended live), agent/sessions/projects/-app/<session>.jsonl, and
#                agent/trajectory.json (ATIF-v1.2) converted from the session after the run; cost
#                null. Version as `claude --version` reports it.
#   codex        agent/setup/…, agent/codex.txt (`codex exec --json` events, appended live),
#                agent/sessions/YYYY/MM/DD/rollout-….jsonl copied out after the run, and an ATIF
#                trajectory.json after the run; cost null.
#   anything else (aider, gemini-cli, openhands, module:Class …): an installed agent without a
#                converter of its own: agent/setup/…, agent/<name>.txt, and an ATIF trajectory
#                after the run whose tokens are null; agent_result tokens and cost null, version
#                "unknown".
# Installed agents' trial.log shows each command as `Running command: …` (their output is only in
# their own files). HARBOR_SIM_*_TOKENS / HARBOR_SIM_COST_USD, when set, apply to every agent.
# Files Harbor writes from its own process (trajectories, episodes, setup/, exit-code.txt) appear
# at once whatever the environment; those written inside the container (the pane, the agent's log,
# claude-code's sessions) appear after the agent phase when the environment is not mounted.

# AGENT_KIND, AGENT_VERSION, AGENT_LOG (the agent's own log under agent/, empty: none) for $AGENT.
agent_profile() {
  AGENT_LOG=
  case $AGENT in
    oracle) AGENT_KIND=oracle AGENT_VERSION=1.0.0 AGENT_LOG=oracle.txt ;;
    nop) AGENT_KIND=nop AGENT_VERSION=1.0.0 ;;
    terminus-2) AGENT_KIND=terminus AGENT_VERSION=2.0.0 AGENT_LOG=terminus_2.pane ;;
    claude-code) AGENT_KIND=claude AGENT_VERSION=2.0.76 AGENT_LOG=claude-code.txt ;;
    codex) AGENT_KIND=codex AGENT_VERSION=0.77.0 AGENT_LOG=codex.txt ;;
    *)
      AGENT_KIND=installed AGENT_VERSION=unknown
      # A custom module.path:Class names its file after the class; other characters become -.
      AGENT_LOG=$(printf '%s' "${AGENT##*:}" | sed 's/[^A-Za-z0-9._-]/-/g').txt ;;
  esac
  # Harbor's installed agents and nop report no tokens or cost unless they parse them; the knobs,
  # when set, win (tests of budgets drive any agent).
  case $AGENT_KIND in
    nop | installed)
      IN_TOKENS=${HARBOR_SIM_INPUT_TOKENS:-null} CACHE_TOKENS=${HARBOR_SIM_CACHE_TOKENS:-null}
      OUT_TOKENS=${HARBOR_SIM_OUTPUT_TOKENS:-null} COST=${HARBOR_SIM_COST_USD:-null} ;;
    claude | codex) COST=${HARBOR_SIM_COST_USD:-null} ;;
  esac
}

# Where the container's agent files go: the trial's agent/ when mounted, else a staging folder
# copied in after the agent phase (flush_agent_files).
STAGE_DIR=
agent_dir() {
  if [ -n "$MOUNTED" ]; then AGENT_DIR=$TRIAL_DIR/agent; return; fi
  [ -n "$STAGE_DIR" ] || STAGE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/harbor-sim.XXXXXX")
  AGENT_DIR=$STAGE_DIR/agent
  mkdir -p "$AGENT_DIR"
}
flush_agent_files() {
  [ -n "$STAGE_DIR" ] && [ -d "$STAGE_DIR/agent" ] || return 0
  cp -R "$STAGE_DIR/agent/." "$TRIAL_DIR/agent/" 2>/dev/null
  rm -rf "$STAGE_DIR/agent"
}
# On exit, and before the crash scenario's kill -9 (which skips the exit trap). A SIGKILL from
# outside leaves it in TMPDIR, as a killed Harbor leaves its container.
remove_stage() { [ -z "$STAGE_DIR" ] || rm -rf "$STAGE_DIR"; }

# The agent's own log (appended); the recording (terminus-2).
agent_log() { [ -z "$AGENT_LOG" ] || printf '%s' "$1" >>"$AGENT_DIR/$AGENT_LOG"; }
cast() {
  [ "$CAST_MODE" = none ] && return
  printf '%s' "$1" >>"$AGENT_DIR/recording.cast"
}
# claude-code's session file (JSON lines, inside the container).
session_log() { printf '%s\n' "$1" >>"$AGENT_DIR/sessions/projects/-app/$TRIAL_ID.jsonl"; }

TRAJ_STEPS= TRAJ_FINAL= TRAJ_PENDING=
write_trajectory() {
  [ "$TRAJ_MODE" = none ] && return
  # terminus-2's per-step rewrites wait for the end when not mounted (as the pane does).
  if [ "$AGENT_KIND" = terminus ] && [ -z "$MOUNTED" ] && [ -z "${1-}" ]; then TRAJ_PENDING=1; return; fi
  if [ -n "$MODEL" ]; then _m=", \"model_name\": $MODEL_J"; else _m=; fi
  case $AGENT_KIND in
    terminus) _schema=ATIF-v1.6 _extra=', "extra": {"parser": "json"}' ;;
    *) _schema=ATIF-v1.2 _extra= ;;
  esac
  _head="{
    \"schema_version\": \"$_schema\",
    \"session_id\": \"$TRIAL_ID\",
    \"agent\": {\"name\": \"$AGENT\", \"version\": \"$AGENT_VERSION\"$_m$_extra},"
  if [ "$TRAJ_MODE" = malformed ]; then
    write_json "$TRIAL_DIR/agent/trajectory.json" "$_head" "
    \"steps\": {\"written_by\": \"a broken agent\"}
}"
    return
  fi
  write_json "$TRIAL_DIR/agent/trajectory.json" "$_head
    \"steps\": [" "$TRAJ_STEPS
    ]$TRAJ_FINAL
}"
  # The last write stopped halfway: the file stays cut (the agent phase is over).
  if [ "$TRAJ_MODE" = truncated ] && [ -n "$TRAJ_FINAL" ]; then
    _whole=$(cat "$TRIAL_DIR/agent/trajectory.json")
    printf '%s' "$_whole" | head -c $((${#_whole} / 2)) >"$TRIAL_DIR/agent/trajectory.json"
  fi
}

# The shell command Harbor runs for an installed agent (shown in trial.log).
agent_run_command() {
  _prompt="'Solve the task $TASK_NAME.'"
  case $AGENT_KIND in
    claude) RUN_CMD="claude --verbose --output-format stream-json -p $_prompt --allowedTools Bash Edit Write Read Glob Grep LS WebFetch NotebookEdit NotebookRead TodoRead TodoWrite Agent 2>&1 </dev/null | tee /logs/agent/claude-code.txt" ;;
    codex) RUN_CMD="codex exec --dangerously-bypass-approvals-and-sandbox --skip-git-repo-check --model ${MODEL##*/} --json -- $_prompt 2>&1 </dev/null | tee /logs/agent/codex.txt" ;;
    *) RUN_CMD="${AGENT##*:} --task $_prompt 2>&1 </dev/null | tee /logs/agent/$AGENT_LOG" ;;
  esac
}

run_phase_agent_setup() {
  SETUP_S=$ENV_F
  trial_log "Setting up agent $AGENT"
  case $AGENT_KIND in
    claude | codex | installed)
      trial_log "Running command: [ -d /installed-agent ] || mkdir -p /installed-agent"
      trial_log "Running command: bash /installed-agent/install.sh" ;;
  esac
  nap "$PHASE_S"
  now_z; SETUP_F=$NOW
  case $AGENT_KIND in
    claude | codex | installed)
      # Harbor writes the install's output from its own process once the command returns.
      mkdir -p "$TRIAL_DIR/agent/setup"
      printf '%s\n' "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]" \
        "Reading package lists..." "Setting up curl (7.88.1-10+deb12u8) ..." \
        "Installing $AGENT ${AGENT_VERSION#unknown}" "$AGENT installed" >"$TRIAL_DIR/agent/setup/stdout.txt"
      printf '0' >"$TRIAL_DIR/agent/setup/return-code.txt" ;;
  esac
}

# The command of agent step $1 (1-based): CMD (keystrokes without the newline) and WHY. Up to
# HARBOR_SIM_DIVERGE_AT every attempt runs the same list; from there on the list and its order
# depend on the trial name, and the first divergent command names it, so two attempts always differ.
agent_command() {
  if [ -n "${HARBOR_SIM_DIVERGE_AT-}" ] && [ $(($1 + 1)) -ge "$HARBOR_SIM_DIVERGE_AT" ]; then
    if [ $(($1 + 1)) -eq "$HARBOR_SIM_DIVERGE_AT" ]; then
      CMD="git checkout -b try-$SUFFIX" WHY="work on a branch of my own before changing anything"
      return
    fi
    case $((($1 + DIVERGE_SEED) % 6)) in
      0) CMD="sed -i 's/retries = 3/retries = 5/' /app/config.py" WHY="raise the retry count the failing check depends on" ;;
      1) CMD="rm -rf /app/build && make -C /app" WHY="rebuild from scratch in case the build is stale" ;;
      2) CMD="pip install -r /app/requirements.txt" WHY="install what the tests import" ;;
      3) CMD="git reset --hard HEAD~1" WHY="undo the last commit, which looks like the culprit" ;;
      4) CMD="python3 /app/main.py --repair" WHY="let the tool repair its own state" ;;
      *) CMD="cat /app/tests/test_outputs.py" WHY="read what the tests expect" ;;
    esac
    return
  fi
  case $((($1 - 1) % 8)) in
    0) CMD="ls -la /app" WHY="see what the task gives me" ;;
    1) CMD="cat /app/README.md" WHY="read the task's notes" ;;
    2) CMD="git status" WHY="check the state of the repository" ;;
    3) CMD="git log --oneline -5" WHY="see the recent history" ;;
    4) CMD="grep -rn TODO /app" WHY="find the unfinished parts" ;;
    5) CMD="python3 -m pytest -q /app/tests" WHY="run the tests to see what fails" ;;
    6) CMD="git diff --stat" WHY="review what changed so far" ;;
    *) CMD="cat /app/main.py" WHY="read the entry point" ;;
  esac
}

# The start of a step in the agent's own log: the command it runs ($1 = step).
agent_step_begins() {
  case $AGENT_KIND in
    claude)
      _ev="{\"type\":\"assistant\",\"message\":{\"id\":\"msg_sim_$1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"${MODEL##*/}\",\"content\":[{\"type\":\"text\",\"text\":\"I need to $WHY.\"},{\"type\":\"tool_use\",\"id\":\"toolu_sim_$1\",\"name\":\"Bash\",\"input\":{\"command\":\"$CMD\",\"description\":\"$WHY\"}}],\"stop_reason\":null,\"usage\":{\"input_tokens\":$_pt,\"cache_read_input_tokens\":$_kt,\"output_tokens\":$_ct}},\"parent_tool_use_id\":null,\"session_id\":\"$TRIAL_ID\"}"
      agent_log "$_ev$NL"
      session_log "{\"parentUuid\":null,\"isSidechain\":false,\"cwd\":\"/app\",\"sessionId\":\"$TRIAL_ID\",\"version\":\"$AGENT_VERSION\",\"type\":\"assistant\",\"timestamp\":\"$NOW\",${_ev#\{\"type\":\"assistant\",}" ;;
    codex)
      agent_log "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_r$1\",\"type\":\"reasoning\",\"text\":\"**Next step** I need to $WHY.\"}}
{\"type\":\"item.started\",\"item\":{\"id\":\"item_$1\",\"type\":\"command_execution\",\"command\":\"bash -lc $CMD\",\"aggregated_output\":\"\",\"exit_code\":null,\"status\":\"in_progress\"}}
" ;;
    installed) agent_log "> $CMD$NL" ;;
  esac
}

# One batch of the step's output: $1 raw lines, $2 the same as JSON string text.
agent_batch() {
  case $AGENT_KIND in
    terminus | oracle | installed) agent_log "$1" ;;
    claude)
      _ev="{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"tool_use_id\":\"toolu_sim_$_step\",\"type\":\"tool_result\",\"content\":\"$2\",\"is_error\":false}]},\"parent_tool_use_id\":null,\"session_id\":\"$TRIAL_ID\"}"
      agent_log "$_ev$NL"
      session_log "{\"parentUuid\":null,\"isSidechain\":false,\"cwd\":\"/app\",\"sessionId\":\"$TRIAL_ID\",\"version\":\"$AGENT_VERSION\",\"type\":\"user\",\"timestamp\":\"$NOW\",${_ev#\{\"type\":\"user\",}" ;;
  esac
}

# The end of a step ($1 = step, $2 = its whole output as JSON text).
agent_step_ends() {
  case $AGENT_KIND in
    codex)
      agent_log "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_$1\",\"type\":\"command_execution\",\"command\":\"bash -lc $CMD\",\"aggregated_output\":\"$2\",\"exit_code\":0,\"status\":\"completed\"}}$NL" ;;
    terminus)
      # terminus-2's episode files, written by Harbor's process (so at once, mounted or not).
      _ep=$TRIAL_DIR/agent/episode-$(($1 - 1))
      if [ "$1" -eq 1 ]; then
        printf '%s\n' "You are an AI assistant tasked with solving command-line tasks in a Linux environment." \
          "Task Description:" "Solve the task $TASK_NAME. The task's files are in /app; the tests in /tests check the result." \
          "Current terminal state:" "root@sandbox:/app#" >"$_ep/prompt.txt"
      else
        printf '%s\n' "New Terminal Output:" "root@sandbox:/app# $_prev_cmd" "(the output of the previous command)" >"$_ep/prompt.txt"
      fi
      printf '{\n  "analysis": "Step %s of %s.",\n  "plan": "%s.",\n  "commands": [{"keystrokes": "%s\\n", "duration": 1.0}],\n  "task_complete": false\n}\n' \
        "$1" "$JOB_NAME" "$WHY" "$CMD" >"$_ep/response.txt"
      _prev_cmd=$CMD ;;
  esac
}

# The agent's last words once every step ran (not when it hangs or crashes).
agent_finishes() {
  case $AGENT_KIND in
    claude)
      if [ "$SCENARIO" = rate-limit ]; then _res='"subtype":"success","is_error":true,"result":"API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Number of requests has exceeded your rate limit\"}}"'
      else _res='"subtype":"success","is_error":false,"result":"The task is done."'; fi
      _c=$COST; [ "$_c" = null ] && _c=0
      agent_log "{\"type\":\"result\",$_res,\"duration_ms\":$PHASE_MS,\"num_turns\":$_steps,\"session_id\":\"$TRIAL_ID\",\"total_cost_usd\":$_c,\"usage\":{\"input_tokens\":$IN_TOKENS,\"cache_read_input_tokens\":$CACHE_TOKENS,\"output_tokens\":$OUT_TOKENS}}$NL" ;;
    codex)
      [ "$SCENARIO" = rate-limit ] && agent_log "{\"type\":\"error\",\"message\":\"exceeded retry limit, last status: 429 Too Many Requests\"}$NL"
      agent_log "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_done\",\"type\":\"agent_message\",\"text\":\"The task is done.\"}}
{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":$IN_TOKENS,\"cached_input_tokens\":$CACHE_TOKENS,\"output_tokens\":$OUT_TOKENS}}
"
      # Codex keeps its rollout under CODEX_HOME; Harbor copies it out after the run.
      _day=${NOW%%T*}
      _sd=$AGENT_DIR/sessions/${_day%%-*}/$(printf '%s' "$_day" | cut -d- -f2)/${_day##*-}
      mkdir -p "$_sd"
      printf '%s\n' "{\"timestamp\":\"$NOW\",\"type\":\"session_meta\",\"payload\":{\"id\":\"$TRIAL_ID\",\"cwd\":\"/app\",\"originator\":\"codex_exec\",\"cli_version\":\"$AGENT_VERSION\"}}" \
        "{\"timestamp\":\"$NOW\",\"type\":\"event_msg\",\"payload\":{\"type\":\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":$IN_TOKENS,\"cached_input_tokens\":$CACHE_TOKENS,\"output_tokens\":$OUT_TOKENS}}}}" \
        >"$_sd/rollout-$(printf '%s' "${NOW%.*}" | tr ':' '-')-$TRIAL_ID.jsonl" ;;
    installed)
      [ "$SCENARIO" = rate-limit ] && agent_log "Error: rate limit exceeded (429 Too Many Requests)$NL"
      agent_log "Done.$NL" ;;
    oracle)
      if [ "$SCENARIO" = fail ]; then
        agent_log "solve.sh: line 12: patch: command not found$NL"
        printf '1' >"$TRIAL_DIR/agent/exit-code.txt"
      fi ;;
  esac
}

# An ATIF tool call for the current step, in the agent's own words.
tool_call_j() {
  case $AGENT_KIND in
    terminus) TOOL_J="{\"tool_call_id\": \"call_${_step}_1\", \"function_name\": \"bash_command\", \"arguments\": {\"keystrokes\": \"$CMD\\n\", \"duration\": 1.0}}" TOOL_ID=call_${_step}_1 ;;
    claude) TOOL_J="{\"tool_call_id\": \"toolu_sim_$_step\", \"function_name\": \"Bash\", \"arguments\": {\"command\": \"$CMD\", \"description\": \"$WHY\"}}" TOOL_ID=toolu_sim_$_step ;;
    codex) TOOL_J="{\"tool_call_id\": \"item_$_step\", \"function_name\": \"shell\", \"arguments\": {\"command\": [\"bash\", \"-lc\", \"$CMD\"]}}" TOOL_ID=item_$_step ;;
    *) TOOL_J="{\"tool_call_id\": \"call_$_step\", \"function_name\": \"bash\", \"arguments\": {\"command\": \"$CMD\"}}" TOOL_ID=call_$_step ;;
  esac
}

run_phase_agent() {
  AGENT_S=$SETUP_F AGENT_RAN=1
  trial_log "Running agent $AGENT"
  agent_writes_reward
  agent_dir
  now_z; _t0=$NOW_MS
  if [ "$AGENT_KIND" = oracle ] && [ -n "$MISSING_SOLUTION" ]; then
    # OracleAgent.run: the log is touched, then the missing script ends the trial (no verifier).
    [ -n "$MOUNTED" ] && : >>"$AGENT_DIR/oracle.txt"
    now_z; AGENT_F=$NOW
    record_exception FileNotFoundError "$MISSING_SOLUTION" "" ""
    flush_buffers
    return
  fi
  if [ "$AGENT_KIND" = nop ]; then
    # nop does nothing: no file, no token; a crash still happens halfway, a hang never ends.
    ms_to_s $((PHASE_MS / 2)); nap "$SECS"
    [ "$SCENARIO" = crash ] && { remove_stage; kill -9 $$; }
    nap "$SECS"
    [ "$SCENARIO" = hang ] && nap 86400
    agent_phase_ends
    return
  fi
  case $AGENT_KIND in claude | codex | installed) agent_run_command; trial_log "Running command: $RUN_CMD" ;; esac
  # Pane lines go out in batches, one per 500 ms of the phase (at most one per line); an agent step
  # (its command, the batches it printed, a trajectory rewrite) spans one or more batches, as a
  # real step spans the output of its command.
  _batches=$((PHASE_MS / 500))
  [ "$_batches" -gt "$LOG_LINES" ] && _batches=$LOG_LINES
  [ "$_batches" -lt 1 ] && _batches=1
  _steps=${HARBOR_SIM_STEPS:-$_batches}
  [ "$_batches" -lt "$_steps" ] && _batches=$_steps
  _batch_ms=$(((PHASE_MS - _steps * WRITE_PAUSE_MS) / _batches))
  [ "$_batch_ms" -lt 0 ] && _batch_ms=0
  ms_to_s "$_batch_ms"; _batch_s=$SECS
  # Per-step tokens and cost: equal shares, the remainder on the last step, so they add up to the totals.
  _cost_total=0
  [ "$COST" = null ] || { dec_to_micro "$COST"; _cost_total=$MICRO; }
  _c=$(printf '%d' "'${SUFFIX#??????}")
  DIVERGE_SEED=$((_c % 6))
  TRAJ_STEPS="
        {\"step_id\": 1, \"timestamp\": \"$NOW\", \"source\": \"user\", \"message\": \"Solve the task $TASK_NAME. The task's files are in /app; the tests in /tests check the result.\"}"
  case $AGENT_KIND in
    terminus)
      cast "{\"version\": 2, \"width\": 160, \"height\": 40, \"timestamp\": $((_t0 / 1000)), \"env\": {\"SHELL\": \"/bin/bash\", \"TERM\": \"tmux-256color\"}}
"
      # Every episode's folder in one mkdir (Harbor makes each as its episode starts): no process
      # per step, so hundreds of simulated terminus-2 runs stay cheap.
      set --
      _i=0
      while [ $_i -lt "$_steps" ]; do set -- "$@" "$TRIAL_DIR/agent/episode-$_i"; _i=$((_i + 1)); done
      mkdir -p "$@" ;;
    oracle) [ -n "$MOUNTED" ] && : >>"$AGENT_DIR/oracle.txt" ;;
    claude)
      mkdir -p "$AGENT_DIR/sessions/projects/-app"
      agent_log "{\"type\":\"system\",\"subtype\":\"init\",\"cwd\":\"/app\",\"session_id\":\"$TRIAL_ID\",\"tools\":[\"Bash\",\"Edit\",\"Write\",\"Read\",\"Glob\",\"Grep\"],\"model\":\"${MODEL##*/}\",\"permissionMode\":\"default\",\"apiKeySource\":\"ANTHROPIC_API_KEY\"}$NL"
      session_log "{\"parentUuid\":null,\"isSidechain\":false,\"cwd\":\"/app\",\"sessionId\":\"$TRIAL_ID\",\"version\":\"$AGENT_VERSION\",\"type\":\"user\",\"timestamp\":\"$NOW\",\"message\":{\"role\":\"user\",\"content\":\"Solve the task $TASK_NAME.\"}}" ;;
    codex) agent_log "{\"type\":\"thread.started\",\"thread_id\":\"$TRIAL_ID\"}
{\"type\":\"turn.started\"}
" ;;
  esac
  _line=0 _step=0 _b=0 N_EPISODES=0 _last_t=0 _prev_cmd=
  while [ $_step -lt $_steps ]; do
    _step=$((_step + 1))
    agent_command "$_step"
    if [ $_step -eq $_steps ]; then _last=1; else _last=0; fi
    if [ "$IN_TOKENS" = null ]; then _pt=null _ct=null _kt=null; else
      _pt=$((IN_TOKENS / _steps + _last * (IN_TOKENS % _steps)))
      _ct=$((OUT_TOKENS / _steps + _last * (OUT_TOKENS % _steps)))
      _kt=$((CACHE_TOKENS / _steps + _last * (CACHE_TOKENS % _steps)))
    fi
    if [ "$COST" = null ]; then _cost=null; else micro_to_dec $((_cost_total / _steps + _last * (_cost_total % _steps))); _cost=$DEC; fi
    now_z
    agent_step_begins "$_step"
    _obs= _step_at= _first=1
    _b_end=$((_batches * _step / _steps))
    while [ $_b -lt $_b_end ]; do
      _b=$((_b + 1))
      _upto=$((LOG_LINES * _b / _batches))
      _batch= _castout= _stamp=
      # Benchmarks measure latency from this moment: one clock read per batch, not per line.
      now_z
      [ -n "$_step_at" ] || _step_at=$NOW
      if [ "${HARBOR_SIM_LOG_STAMP-}" = 1 ]; then _stamp=" @$NOW_MS"; fi
      if [ -n "${BASH_VERSION-}" ]; then
        # bash: the batch in one printf over its line numbers, the observation's JSON text and the
        # recording's by substitution. A shell statement per line was most of a batch's cost.
        if [ "$_upto" -gt "$_line" ]; then
          eval "_nums=({$((_line + 1))..$_upto})"
          printf -v _batch "%s$_stamp\n" "${_nums[@]/#/sim-agent $JOB_NAME line }"
          _line=$_upto
        fi
        _bobs=${_batch//$NL/\\n} _castout=${_batch//$NL/\\r\\n}
      else
        _bobs=
        while [ $_line -lt $_upto ]; do
          _line=$((_line + 1))
          _batch="${_batch}sim-agent $JOB_NAME line $_line$_stamp$NL"
          _bobs="${_bobs}sim-agent $JOB_NAME line $_line$_stamp\\n"
          _castout="${_castout}sim-agent $JOB_NAME line $_line$_stamp\\r\\n"
        done
      fi
      if [ $_b -eq 1 ] && [ -n "$SECRET_VALUE" ]; then
        _batch="${_batch}root@sandbox:/app# echo \$$HARBOR_SIM_ECHO_SECRET$NL$SECRET_VALUE$NL"
        _e=$(json_escape "$SECRET_VALUE")
        _bobs="${_bobs}root@sandbox:/app# echo \$$HARBOR_SIM_ECHO_SECRET\\n$_e\\n"
        _castout="${_castout}root@sandbox:/app# echo \$$HARBOR_SIM_ECHO_SECRET\\r\\n$_e\\r\\n"
      fi
      _obs=$_obs$_bobs
      agent_batch "$_batch" "$_bobs"
      if [ "$AGENT_KIND" = terminus ]; then
        _t=$((NOW_MS - _t0))
        [ "$_t" -ge "$_last_t" ] || _t=$_last_t
        ms_to_s "$_t"; _ts=$SECS
        if [ -n "$_first" ]; then
          # The step's first batch: the command is typed, its output follows 100 ms later.
          ms_to_s $((_t + 100)); _to=$SECS
          _last_t=$((_t + 100))
          cast "[$_ts, \"o\", \"root@sandbox:/app# $CMD\\r\\n\"]
[$_to, \"o\", \"$_castout\"]
"
        else
          _last_t=$_t
          cast "[$_ts, \"o\", \"$_castout\"]
"
        fi
      fi
      _first=
      if [ $_b -lt $_b_end ]; then nap "$_batch_s"; fi
    done
    N_EPISODES=$_step
    agent_step_ends "$_step" "$_obs"
    if [ -n "$MODEL" ]; then _m=" \"model_name\": $MODEL_J,"; else _m=; fi
    if [ "$_pt" = null ]; then _metrics=; else
      _metrics=",
         \"metrics\": {\"prompt_tokens\": $_pt, \"completion_tokens\": $_ct, \"cached_tokens\": $_kt, \"cost_usd\": $_cost}"
    fi
    if [ "$AGENT_KIND" = terminus ]; then
      _msg="Analysis: step $_step of $JOB_NAME; the terminal shows lines up to $_line. Plan: $WHY." _prompt_out="root@sandbox:/app# $CMD\\n"
    else
      _msg="I need to $WHY." _prompt_out=
    fi
    tool_call_j
    TRAJ_STEPS="$TRAJ_STEPS,
        {\"step_id\": $((_step + 1)), \"timestamp\": \"$_step_at\", \"source\": \"agent\",$_m
         \"message\": \"$_msg\",
         \"reasoning_content\": \"I need to $WHY, so the next command is: $CMD\",
         \"tool_calls\": [$TOOL_J],
         \"observation\": {\"results\": [{\"source_call_id\": \"$TOOL_ID\", \"content\": \"$_prompt_out$_obs\"}]}$_metrics}"
    [ "$AGENT_KIND" = terminus ] && write_trajectory
    if [ "$SCENARIO" = crash ] && [ $_step -ge $(((_steps + 1) / 2)) ]; then remove_stage; kill -9 $$; fi
    nap "$_batch_s"
  done
  if [ "$SCENARIO" = hang ]; then
    trial_log "Agent is waiting for a command that never returns"
    nap 86400
  fi
  now_z
  agent_finishes
  if [ "$AGENT_KIND" = terminus ] && [ "$CAST_MODE" = truncated ]; then
    ms_to_s $((_last_t + 100))
    cast "[$SECS, \"o\", \"root@sandbox:/app# ex"
  fi
  if [ "$AGENT_KIND" != oracle ]; then
    if [ "$IN_TOKENS" = null ]; then _tp=null _tc=null _tk=null; else _tp=$IN_TOKENS _tc=$OUT_TOKENS _tk=$CACHE_TOKENS; fi
    TRAJ_FINAL=",
    \"final_metrics\": {\"total_prompt_tokens\": $_tp, \"total_completion_tokens\": $_tc, \"total_cached_tokens\": $_tk, \"total_cost_usd\": $COST, \"total_steps\": $((_steps + 1))}"
    # Installed agents' trajectories are converted from their logs once the run is over.
    write_trajectory
  fi
  [ "$AGENT_KIND" = terminus ] && AGENT_META_J="{\"n_episodes\": $N_EPISODES, \"summarization_count\": 0}"
  agent_phase_ends
}

# The agent phase is over: the scenario's agent exception, the agent's files.
agent_phase_ends() {
  now_z; AGENT_F=$NOW
  case $SCENARIO in
    agent-timeout)
      ms_to_pyfloat "$PHASE_MS"
      record_exception AgentTimeoutError "Agent execution timed out after $PYFLOAT seconds" harbor.trial.trial. "" ;;
    rate-limit)
      record_exception ApiRateLimitError "Rate limit exceeded by the model provider (HTTP 429): retry after 60 seconds" harbor.agents.installed.base. 1 ;;
  esac
  flush_buffers
}
