// COIN-OR CLP (Eclipse Public License) through its C++ interface, wrapped for tokenkit: the
// C++ class gives the dual pricing choice that CLP's C interface lacks.
#include "clp_shim.h"
#include <coin/ClpDualRowDantzig.hpp>
#include <coin/ClpDualRowSteepest.hpp>
#include <coin/ClpSimplex.hpp>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

struct tk_lp {
    ClpSimplex model;
    int solved = 0;
};

extern "C" {

tk_lp *tk_lp_new(void) {
    tk_lp *lp = new (std::nothrow) tk_lp();
    if (!lp) return nullptr;
    lp->model.setLogLevel(0);
    lp->model.setOptimizationDirection(1.0);
    // TK_CLP_PRICING=dantzig|steepest (experiments); the default is CLP's.
    if (const char *p = std::getenv("TK_CLP_PRICING")) {
        if (std::strcmp(p, "dantzig") == 0) {
            ClpDualRowDantzig d;
            lp->model.setDualRowPivotAlgorithm(d);
        } else if (std::strncmp(p, "steepest", 8) == 0) {
            ClpDualRowSteepest s(p[8] ? std::atoi(p + 8) : 3);
            lp->model.setDualRowPivotAlgorithm(s);
        }
    }
    if (const char *s = std::getenv("TK_CLP_SCALING")) lp->model.scaling(std::atoi(s));
    return lp;
}

void tk_lp_free(tk_lp *lp) { delete lp; }

double tk_lp_infinity(void) { return 1e30; }

void tk_lp_add_columns(tk_lp *lp, int count, const double *lower, const double *upper, const double *objective) {
    if (count <= 0) return;
    std::vector<CoinBigIndex> starts(static_cast<size_t>(count) + 1, 0);
    lp->model.addColumns(count, lower, upper, objective, starts.data(), nullptr, nullptr);
}

void tk_lp_add_rows(tk_lp *lp, int count, const double *lower, const double *upper, const int *starts,
                    const int *columns, const double *values) {
    if (count <= 0) return;
    std::vector<CoinBigIndex> s(starts, starts + count + 1);
    lp->model.addRows(count, lower, upper, s.data(), columns, values);
}

int tk_lp_solve(tk_lp *lp) {
    // The first solve lets CLP choose (with presolve); later ones continue from the basis.
    if (!lp->solved) {
        lp->model.initialDualSolve();
        lp->solved = 1;
    } else {
        lp->model.dual(0);
    }
    int status = lp->model.status();
    if (status != 0) {
        // A warm start can stall on a badly scaled basis; retry once from scratch.
        lp->model.initialSolve();
        status = lp->model.status();
    }
    return status;
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
    int m = lp->model.numberRows(), n = lp->model.numberColumns();
    for (int i = 0; i < m; i++) lp->model.setRowStatus(i, ClpSimplex::basic);
    for (int j = 0; j < n; j++) lp->model.setColumnStatus(j, ClpSimplex::atLowerBound);
    lp->solved = 0;
}

int tk_lp_iterations(tk_lp *lp) { return lp->model.numberIterations(); }
int tk_lp_rows(tk_lp *lp) { return lp->model.numberRows(); }
int tk_lp_columns(tk_lp *lp) { return lp->model.numberColumns(); }
double tk_lp_objective(tk_lp *lp) { return lp->model.objectiveValue(); }

void tk_lp_solution(tk_lp *lp, double *out) {
    const double *x = lp->model.getColSolution();
    int n = lp->model.numberColumns();
    for (int i = 0; i < n; i++) out[i] = x[i];
}

}  // extern "C"
