// The few COIN-OR CLP calls tokenkit needs, under tokenkit's own names, so Swift sees a small
// plain-C surface and never CLP's headers (which pull in compiler-specific macros).
#ifndef TOKENKIT_CLP_SHIM_H
#define TOKENKIT_CLP_SHIM_H
#include <stddef.h>

/// A linear program held by CLP: minimize c·x subject to row and column bounds.
typedef struct tk_lp tk_lp;

#ifdef __cplusplus
extern "C" {
#endif

tk_lp *tk_lp_new(void);
void tk_lp_free(tk_lp *lp);
/// Infinity as CLP understands it (use for unbounded sides).
double tk_lp_infinity(void);
/// Appends `count` columns with bounds and objective coefficients and no matrix entries.
void tk_lp_add_columns(tk_lp *lp, int count, const double *lower, const double *upper, const double *objective);
/// Appends `count` rows in compressed row form: row r has entries starts[r] ..< starts[r+1]
/// of `columns` / `values` (starts has count + 1 entries).
void tk_lp_add_rows(tk_lp *lp, int count, const double *lower, const double *upper, const int *starts,
                    const int *columns, const double *values);
/// Solves with the dual simplex, starting from the last basis when there is one (rows added
/// since keep the old basis dual feasible). Returns CLP's status: 0 optimal, 1 primal
/// infeasible, 2 dual infeasible, 3 stopped on limits, 4 stopped on errors.
int tk_lp_solve(tk_lp *lp);
/// Deletes the listed rows (indexes into the current rows). Deleting rows whose slack is basic
/// keeps the basis valid, so the next solve still starts from it.
void tk_lp_delete_rows(tk_lp *lp, int count, const int *rows);
/// Row activities a·x and whether each row's slack is basic (the row is not binding), after a solve.
void tk_lp_row_state(tk_lp *lp, double *activity, int *basic);
/// Resets the basis to all slacks, so the next solve starts cold (as on a new model).
void tk_lp_forget_basis(tk_lp *lp);
/// The dual simplex's pricing: Dantzig's rule (1) or CLP's default dual steepest edge (0).
void tk_lp_set_dantzig(tk_lp *lp, int dantzig);
/// Sets CLP's primal and dual feasibility tolerances (its defaults: 1e-7).
void tk_lp_set_tolerances(tk_lp *lp, double primal, double dual);
/// Writes the model with its basis to a file (CLP's own format; debugging experiments).
int tk_lp_save(tk_lp *lp, const char *path);
/// Simplex iterations of the last solve.
int tk_lp_iterations(tk_lp *lp);
int tk_lp_rows(tk_lp *lp);
int tk_lp_columns(tk_lp *lp);
double tk_lp_objective(tk_lp *lp);
/// Copies the primal column solution into `out` (tk_lp_columns entries).
void tk_lp_solution(tk_lp *lp, double *out);

#ifdef __cplusplus
}
#endif
#endif
