// COIN-OR CLP (Eclipse Public License) through its C interface, wrapped for tokenkit.
#include "clp_shim.h"
#include <coin/Clp_C_Interface.h>
#include <stdlib.h>

struct tk_lp {
    Clp_Simplex *model;
};

tk_lp *tk_lp_new(void) {
    tk_lp *lp = calloc(1, sizeof(tk_lp));
    if (!lp) return NULL;
    lp->model = Clp_newModel();
    Clp_setLogLevel(lp->model, 0);
    Clp_setOptimizationDirection(lp->model, 1.0);
    return lp;
}

void tk_lp_free(tk_lp *lp) {
    if (!lp) return;
    Clp_deleteModel(lp->model);
    free(lp);
}

double tk_lp_infinity(void) { return 1e30; }

void tk_lp_add_columns(tk_lp *lp, int count, const double *lower, const double *upper, const double *objective) {
    if (count <= 0) return;
    CoinBigIndex *starts = calloc((size_t)count + 1, sizeof(CoinBigIndex));
    Clp_addColumns(lp->model, count, lower, upper, objective, starts, NULL, NULL);
    free(starts);
}

void tk_lp_add_rows(tk_lp *lp, int count, const double *lower, const double *upper, const int *starts,
                    const int *columns, const double *values) {
    if (count <= 0) return;
    CoinBigIndex *s = malloc(((size_t)count + 1) * sizeof(CoinBigIndex));
    for (int i = 0; i <= count; i++) s[i] = (CoinBigIndex)starts[i];
    Clp_addRows(lp->model, count, lower, upper, s, columns, values);
    free(s);
}

int tk_lp_solve(tk_lp *lp) {
    // Always the dual simplex from the last basis (all slacks at first). Starting with
    // Clp_initialDualSolve (presolve) made later warm re-solves of the mixture LP run up to
    // 3.5 ms an iteration instead of ~1 (one 72 s re-solve at T = 30000).
    Clp_dual(lp->model, 0);
    int status = Clp_status(lp->model);
    if (status != 0) {
        // A warm start can stall on a badly scaled basis; retry once from scratch.
        Clp_initialSolve(lp->model);
        status = Clp_status(lp->model);
    }
    return status;
}

void tk_lp_delete_rows(tk_lp *lp, int count, const int *rows) {
    if (count > 0) Clp_deleteRows(lp->model, count, rows);
}

void tk_lp_row_state(tk_lp *lp, double *activity, int *basic) {
    const double *a = Clp_getRowActivity(lp->model);
    int m = Clp_numberRows(lp->model);
    for (int i = 0; i < m; i++) {
        activity[i] = a[i];
        basic[i] = Clp_getRowStatus(lp->model, i) == 1;
    }
}

void tk_lp_forget_basis(tk_lp *lp) {
    if (!Clp_statusExists(lp->model)) return;
    int m = Clp_numberRows(lp->model), n = Clp_numberColumns(lp->model);
    for (int i = 0; i < m; i++) Clp_setRowStatus(lp->model, i, 1);
    for (int j = 0; j < n; j++) Clp_setColumnStatus(lp->model, j, 3);
}

void tk_lp_set_tolerances(tk_lp *lp, double primal, double dual) {
    Clp_setPrimalTolerance(lp->model, primal);
    Clp_setDualTolerance(lp->model, dual);
}

int tk_lp_save(tk_lp *lp, const char *path) { return Clp_saveModel(lp->model, path); }

int tk_lp_iterations(tk_lp *lp) { return Clp_numberIterations(lp->model); }

int tk_lp_rows(tk_lp *lp) { return Clp_numberRows(lp->model); }
int tk_lp_columns(tk_lp *lp) { return Clp_numberColumns(lp->model); }
double tk_lp_objective(tk_lp *lp) { return Clp_objectiveValue(lp->model); }

void tk_lp_solution(tk_lp *lp, double *out) {
    const double *x = Clp_getColSolution(lp->model);
    int n = Clp_numberColumns(lp->model);
    for (int i = 0; i < n; i++) out[i] = x[i];
}
