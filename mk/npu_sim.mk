# SPDX-License-Identifier: MIT
# NPU model (simulator): strict regcmd executor, golden-case runner, tests.
LIB_SRCS += lib/npu_sim.c lib/npu_sim_regs.c lib/npu_case.c lib/json_min.c
TOOLS += npu-sim-run
TEST_PROGS += test_npu_sim
CHECK_CMDS += "tests/npu_golden_test.sh"
CHECK_CMDS += "tests/npu_sim_dot_test.sh"
