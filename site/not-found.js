// A post's page that is not there yet (rendered a moment after the post is written, in each
// region from its own replica) or not at all (post pages turned on before the deploy rendered
// them): the post is opened in the blog's page instead, which reads it through the API.
const post = location.pathname.match(/^\/posts\/([0-9a-f]{32})$/);
if (post) location.replace(`/#/posts/${post[1]}`);
