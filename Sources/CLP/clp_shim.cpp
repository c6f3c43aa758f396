// COIN-OR CLP (Eclipse Public License) through its C++ API, wrapped for tokenkit. C++ rather
// than CLP's C interface: the dual simplex's pricing rule is only settable here.
#include "clp_shim.h"
#include <coin/ClpDualRowDantzig.hpp>
#include <coin/ClpDualRowSteepest.hpp>
#include <coin/ClpSimplex.hpp>
#include <vector>

struct tk_lp {
    ClpSimplex model;
};

tk_lp *tk_lp_new(void) {
    tk_lp *lp = new tk_lp();
    lp->model.setLogLevel(0);
    lp->model.setOptimizationDirection(1.0);
    return lp;
}

void tk_lp_free(tk_lp *lp) { delete lp; }

double tk_lp_infinity(void) { return 1e30; }

void tk_lp_add_columns(tk_lp *lp, int count, const double *lower, const double *upper, const double *objective) {
    if (count <= 0) return;
    std::vector<CoinBigIndex> starts((size_t)count + 1, 0);
    lp->model.addColumns(count, lower, upper, objective, starts.data(), nullptr, nullptr);
}

void tk_lp_add_rows(tk_lp *lp, int count, const double *lower, const double *upper, const int *starts,
                    const int *columns, const double *values) {
    if (count <= 0) return;
    std::vector<CoinBigIndex> s(starts, starts + count + 1);
    lp->model.addRows(count, lower, upper, s.data(), columns, values);
}

int tk_lp_solve(tk_lp *lp) {
    // Always the dual simplex from the last basis (all slacks at first). Starting with
    // initialDualSolve (presolve) made later warm re-solves of the mixture LP run up to
    // 3.5 ms an iteration instead of ~1 (one 72 s re-solve at T = 30000).
    lp->model.dual(0);
    int status = lp->model.status();
    if (status != 0) {
        // A warm start can stall on a badly scaled basis; retry once from scratch.
        lp->model.initialSolve();
        status = lp->model.status();
    }
    return status;
}

void tk_lp_set_dantzig(tk_lp *lp, int dantzig) {
    if (dantzig) {
        ClpDualRowDantzig rule;
        lp->model.setDualRowPivotAlgorithm(rule);
    } else {
        ClpDualRowSteepest rule;
        lp->model.setDualRowPivotAlgorithm(rule);
    }
}

void tk_lp_delete_rows(tk_lp *lp, int count, const int *rows) {
    if (count > 0) lp->model.deleteRows(count, rows);
}

void tk_lp_row_state(tk_lp *lp, double *activity, int *basic) {
    const double *a = lp->model.getRowActivity();
    int m = lp->model.numberRows();
    for (int i = 0; i < m; i++) {
        activity[i] = a[i];
        basic[i] = lp->model.getRowStatus(i) == ClpSimplex::basic;
    }
}

void tk_lp_forget_basis(tk_lp *lp) {
    if (!lp->model.statusExists()) return;
    int m = lp->model.numberRows(), n = lp->model.numberColumns();
    for (int i = 0; i < m; i++) lp->model.setRowStatus(i, ClpSimplex::basic);
    for (int j = 0; j < n; j++) lp->model.setColumnStatus(j, ClpSimplex::atLowerBound);
}

void tk_lp_set_tolerances(tk_lp *lp, double primal, double dual) {
    lp->model.setPrimalTolerance(primal);
    lp->model.setDualTolerance(dual);
}

int tk_lp_save(tk_lp *lp, const char *path) { return lp->model.saveModel(path); }

int tk_lp_iterations(tk_lp *lp) { return lp->model.numberIterations(); }

int tk_lp_rows(tk_lp *lp) { return lp->model.numberRows(); }
int tk_lp_columns(tk_lp *lp) { return lp->model.numberColumns(); }
double tk_lp_objective(tk_lp *lp) { return lp->model.objectiveValue(); }

void tk_lp_solution(tk_lp *lp, double *out) {
    const double *x = lp->model.getColSolution();
    int n = lp->model.numberColumns();
    for (int i = 0; i < n; i++) out[i] = x[i];
}
