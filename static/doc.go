// Package static embeds HAPA's front-end assets (CSS, JS, images) and serves them under
// content-hashed URLs with Cache-Control: immutable.
package static
