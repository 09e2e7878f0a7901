"""Quizzes: question types, banks, attempts graded on the server, trainer reports."""
