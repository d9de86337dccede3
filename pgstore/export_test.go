package pgstore

// ListQuery exposes the statement of List to the tests, which check its plan.
var ListQuery = (*Store).listQuery
